#!/usr/bin/env bash
# install.sh - installs a built hotline on this machine (Debian 12), run as
# root from the source tree after `make`:
#   /usr/local/bin/hotline                      the daemon and its commands
#   /usr/local/share/hotline/                   console, web chat, sample corpus
#   /etc/hotline/hotline.json                   configuration (kept if present)
#   /etc/hotline/secrets.env                    secrets (kept if present)
#   /etc/systemd/system/hotline.service         the unit
#   user and group "hotline" (no login), /var/lib/hotline via StateDirectory
# Re-running it upgrades the binary and static files and keeps config and data.
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "install.sh: run as root" >&2; exit 1; }
[ -x build/hotline ] || { echo "install.sh: build first (make)" >&2; exit 1; }

getent group hotline >/dev/null || groupadd --system hotline
getent passwd hotline >/dev/null ||
  useradd --system --gid hotline --home-dir /var/lib/hotline --no-create-home \
          --shell /usr/sbin/nologin --comment "hotline daemon" hotline

install -m 0755 build/hotline /usr/local/bin/hotline
share=/usr/local/share/hotline
install -d -m 0755 "$share" "$share/bot" "$share/knowledge"
rm -rf "$share/bot/console" "$share/bot/chat" "$share/knowledge/data"
cp -r bot/console bot/chat "$share/bot/"
cp -r knowledge/data "$share/knowledge/"
install -m 0644 README.md "$share/README.md"
chmod -R u=rwX,go=rX "$share"

install -d -m 0750 -g hotline /etc/hotline
if [ ! -f /etc/hotline/hotline.json ]; then
  sed -e 's#"listen": "0.0.0.0:8080"#"listen": "127.0.0.1:8080"#' deploy/hotline.json \
    >/etc/hotline/hotline.json
  chown root:hotline /etc/hotline/hotline.json
  chmod 0640 /etc/hotline/hotline.json
  echo "install.sh: wrote /etc/hotline/hotline.json: edit public_url and the channels"
fi
if [ ! -f /etc/hotline/secrets.env ]; then
  umask 027
  cat >/etc/hotline/secrets.env <<'SECRETS'
# NAME=value, read by systemd (EnvironmentFile); hotline.json says "$NAME".
HOTLINE_ZALO_OA_SECRET=
HOTLINE_ZALO_APP_SECRET=
HOTLINE_ZALO_REFRESH_TOKEN=
HOTLINE_KANNEL_PASSWORD=
HOTLINE_KANNEL_WEBHOOK_TOKEN=
HOTLINE_TWILIO_AUTH_TOKEN=
HOTLINE_ESMS_API_KEY=
HOTLINE_ESMS_SECRET_KEY=
SECRETS
  chown root:hotline /etc/hotline/secrets.env
  chmod 0640 /etc/hotline/secrets.env
  echo "install.sh: wrote /etc/hotline/secrets.env: fill in the secrets"
fi
install -m 0644 deploy/hotline.service /etc/systemd/system/hotline.service
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  echo "install.sh: systemctl enable --now hotline   (or: systemctl restart hotline after an upgrade)"
fi
