#!/usr/bin/env bash
# Installs Gatehouse as a systemd service on a Debian / Raspberry Pi OS box.
#   sudo systemd/install.sh [--config path/to/compound.yaml] [--secrets path/to/secrets.yaml]
# Idempotent: re-running upgrades the code and keeps /etc/gatehouse and /var/lib/gatehouse.
#
# Ownership model: the code in /opt/gatehouse belongs to root and is read-only for the
# service (a compromised daemon cannot plant code for its next start); the data dir belongs
# to the service user, 0700; the compound and secrets files are root:gatehouse 0640 (the
# service reads them through its group and cannot change them). npm and the native addons'
# build scripts run as an unprivileged user in a scratch directory, never as root.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
config=""
secrets=""
while [ $# -gt 0 ]; do
  case "$1" in
    --config) config="$2"; shift 2 ;;
    --secrets) secrets="$2"; shift 2 ;;
    *) echo "usage: $0 [--config FILE] [--secrets FILE]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root (sudo)" >&2; exit 1; }
command -v node >/dev/null || { echo "install.sh: Node.js 20 or newer is required (apt-get install nodejs)" >&2; exit 1; }
[ "$(command -v node)" = /usr/bin/node ] || echo "install.sh: note: node is $(command -v node); gatehouse.service runs /usr/bin/node" >&2

# libsystemd-dev lets the sd-notify binding build, which Type=notify and the watchdog need.
apt-get install -y --no-install-recommends libsystemd-dev build-essential python3 util-linux >/dev/null
id gatehouse >/dev/null 2>&1 \
  || useradd --system --user-group --home-dir /var/lib/gatehouse --no-create-home --shell /usr/sbin/nologin gatehouse
install -d -m 0700 -o gatehouse -g gatehouse /var/lib/gatehouse

# Build in a scratch dir as the unprivileged service user (its npm cache there too, not in
# the data dir): package install scripts (node-gyp, prebuild-install) never run as root.
build="$(mktemp -d /var/tmp/gatehouse-build.XXXXXX)"
trap 'rm -rf "$build"' EXIT
cp -a "$here"/{bin,gateway,drivers,sim,config,systemd,package.json,package-lock.json,tsconfig.json,README.md} "$build"/
chown -R gatehouse:gatehouse "$build"
as_builder() { runuser -u gatehouse -- env HOME="$build/.home" npm_config_cache="$build/.npm" "$@"; }
(cd "$build" && as_builder npm ci --no-audit --no-fund && as_builder npm run build && as_builder npm prune --omit=dev --no-audit --no-fund)
rm -rf "$build/.home" "$build/.npm"

# Install the built tree owned by root, read-only for everyone else, and swap it in.
rm -rf /opt/gatehouse.new
cp -a "$build" /opt/gatehouse.new
chown -R root:root /opt/gatehouse.new
chmod -R u=rwX,go=rX /opt/gatehouse.new
rm -rf /opt/gatehouse.old
[ -d /opt/gatehouse ] && mv /opt/gatehouse /opt/gatehouse.old
mv /opt/gatehouse.new /opt/gatehouse
rm -rf /opt/gatehouse.old

install -d -m 0750 -o root -g gatehouse /etc/gatehouse
if [ -n "$config" ]; then install -m 0640 -o root -g gatehouse "$config" /etc/gatehouse/compound.yaml; fi
if [ -n "$secrets" ]; then install -m 0640 -o root -g gatehouse "$secrets" "/etc/gatehouse/$(basename "$secrets")"; fi
# Secrets already there (an upgrade, or copied by hand): the same owner and mode.
for f in /etc/gatehouse/*secrets*.yaml; do
  if [ -f "$f" ]; then chown root:gatehouse "$f"; chmod 0640 "$f"; fi
done
[ -f /etc/gatehouse/compound.yaml ] || echo "install.sh: put the compound file at /etc/gatehouse/compound.yaml (see config/examples/)" >&2
# Checked as the service user: a secrets file it cannot read fails here, not at the first start.
runuser -u gatehouse -- /usr/bin/env node /opt/gatehouse/bin/gatehouse.js check \
  --config /etc/gatehouse/compound.yaml --data /var/lib/gatehouse \
  || { echo "install.sh: fix the compound file, then: systemctl enable --now gatehouse" >&2; exit 2; }
install -m 0644 -o root -g root /opt/gatehouse/systemd/gatehouse.service /etc/systemd/system/gatehouse.service
systemd-analyze verify /etc/systemd/system/gatehouse.service
systemctl daemon-reload
systemctl enable --now gatehouse
systemctl --no-pager status gatehouse | head -5
