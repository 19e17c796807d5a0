#!/usr/bin/env bash
# tests/browser/run.sh — the console browser test against a real daemon.
#
# Installs playwright-core (npm) if needed, starts build/hotline on a temporary
# config, database and free port, creates a staff and an admin user, runs
# console.test.mjs in Debian's Chromium and stops the daemon.  Exit status is
# the test's.  Screenshots: tests/out/screenshots/.  Daemon log on failure:
# tests/out/browser-daemon.log.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

if [ ! -x /usr/bin/chromium ] && [ -z "${CHROMIUM:-}" ]; then
    echo "browser test: /usr/bin/chromium is missing (apt-get install chromium)" >&2
    exit 1
fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
    (cd "$here" && npm install --no-audit --no-fund --loglevel=error)
fi
if [ ! -x build/hotline ]; then
    make build/hotline >/dev/null
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/hotline-browser.XXXXXX")"
pid=""
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
cat >"$tmp/hotline.json" <<JSON
{
  "listen": "127.0.0.1:$port",
  "database": "$tmp/hotline.db",
  "knowledge": { "corpus": "$root/knowledge/data/faq.json", "lexicon": "$root/knowledge/data/lexicon.json" },
  "console": { "dir": "$root/bot/console" },
  "channels": { "web": { "enabled": true, "dir": "$root/bot/chat" } }
}
JSON
build/hotline check-config "$tmp/hotline.json" >/dev/null

staff_pass="$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)"
admin_pass="$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)"
printf '%s\n' "$staff_pass" | build/hotline user add canbo --role staff --config "$tmp/hotline.json" >/dev/null 2>"$tmp/cli.log" \
    || { cat "$tmp/cli.log" >&2; exit 1; }
printf '%s\n' "$admin_pass" | build/hotline user add quantri --role admin --config "$tmp/hotline.json" >/dev/null 2>"$tmp/cli.log" \
    || { cat "$tmp/cli.log" >&2; exit 1; }

mkdir -p tests/out
build/hotline serve --config "$tmp/hotline.json" >"$tmp/daemon.log" 2>&1 &
pid=$!

url="http://127.0.0.1:$port"
ready=0
for _ in $(seq 150); do
    if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' "$url/healthz" 2>/dev/null; then
        ready=1
        break
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "browser test: the daemon exited at start" >&2
        cat "$tmp/daemon.log" >&2
        exit 1
    fi
    sleep 0.1
done
if [ "$ready" != 1 ]; then
    echo "browser test: the daemon does not answer $url/healthz" >&2
    cat "$tmp/daemon.log" >&2
    exit 1
fi

status=0
HOTLINE_URL="$url" \
HOTLINE_STAFF_USER=canbo HOTLINE_STAFF_PASS="$staff_pass" \
HOTLINE_ADMIN_USER=quantri HOTLINE_ADMIN_PASS="$admin_pass" \
    node "$here/console.test.mjs" || status=$?

if [ "$status" -ne 0 ]; then
    cp "$tmp/daemon.log" tests/out/browser-daemon.log 2>/dev/null || true
    echo "browser test: daemon log in tests/out/browser-daemon.log" >&2
fi
exit "$status"
