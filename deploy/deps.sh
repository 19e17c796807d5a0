#!/usr/bin/env bash
# deps.sh - install the Debian packages hotline builds and tests with.
# A no-op when everything is present; otherwise apt-get, non-interactive.
# Set HOTLINE_DEPS_EXTRA=1 to add what the integration suite needs
# (Kannel, Chromium, Node.js, wrk, clang); .ci/run does.
set -eu
need="gcc make pkg-config libevent-dev libcurl4-openssl-dev libcjson-dev libsqlite3-dev
libutf8proc-dev libssl-dev libcmocka-dev python3 sqlite3 curl"
if [ "${HOTLINE_DEPS_EXTRA:-0}" = 1 ]; then
  need="$need kannel kannel-extras chromium wrk clang libclang-rt-14-dev"
  # Node.js may come from another repository (with its own npm): only ask
  # Debian for it when there is none at all.
  command -v npm >/dev/null 2>&1 || need="$need nodejs npm"
fi
missing=""
for p in $need; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
browser_modules() {
  # The browser test drives Debian's Chromium with playwright-core from npm.
  if [ "${HOTLINE_DEPS_EXTRA:-0}" = 1 ] && [ -f tests/browser/package.json ] &&
     [ ! -d tests/browser/node_modules/playwright-core ]; then
    echo "deps.sh: npm install in tests/browser" >&2
    (cd tests/browser && npm install --no-audit --no-fund --loglevel=error >&2)
  fi
}
if [ -z "$missing" ]; then
  browser_modules
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "deps.sh: missing Debian packages:$missing" >&2
  echo "deps.sh: run as root (or: sudo apt-get install$missing)" >&2
  exit 1
fi
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
browser_modules
