#!/usr/bin/env bash
# Installs Gatehouse as a systemd service on a Debian / Raspberry Pi OS box.
#   sudo systemd/install.sh [--config path/to/compound.yaml]
# Idempotent: re-running upgrades the code and keeps /etc/gatehouse and /var/lib/gatehouse.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
config=""
while [ $# -gt 0 ]; do
  case "$1" in
    --config) config="$2"; shift 2 ;;
    *) echo "usage: $0 [--config FILE]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root (sudo)" >&2; exit 1; }
command -v node >/dev/null || { echo "install.sh: Node.js 20 or newer is required (apt-get install nodejs)" >&2; exit 1; }

# libsystemd-dev lets the sd-notify binding build, which Type=notify and the watchdog need.
apt-get install -y --no-install-recommends libsystemd-dev build-essential python3 >/dev/null
id gatehouse >/dev/null 2>&1 || useradd --system --home-dir /var/lib/gatehouse --shell /usr/sbin/nologin gatehouse
install -d -m 0755 /opt/gatehouse
cp -a "$here"/{bin,gateway,drivers,sim,config,systemd,package.json,package-lock.json,tsconfig.json,README.md} /opt/gatehouse/
cd /opt/gatehouse
npm ci --no-audit --no-fund
npm run build
npm prune --omit=dev
install -d -m 0750 -o root -g gatehouse /etc/gatehouse
if [ -n "$config" ]; then install -m 0640 -o root -g gatehouse "$config" /etc/gatehouse/compound.yaml; fi
[ -f /etc/gatehouse/compound.yaml ] || echo "install.sh: put the compound file at /etc/gatehouse/compound.yaml (see config/examples/)" >&2
node bin/gatehouse.js check --config /etc/gatehouse/compound.yaml || { echo "install.sh: fix the compound file, then: systemctl enable --now gatehouse" >&2; exit 2; }
install -m 0644 systemd/gatehouse.service /etc/systemd/system/gatehouse.service
systemctl daemon-reload
systemctl enable --now gatehouse
systemctl --no-pager status gatehouse | head -5
