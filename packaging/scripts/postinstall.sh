#!/bin/sh
# After the files are in place: reload systemd, enable the units on a first
# install, restart running ones on an upgrade. Nothing is started on a first
# install: hotswapd reads --peers only on its first start, so it must be
# configured (/etc/hotswap/hotswapd.yaml) before it runs.
#   deb: $1 = configure, $2 = the version configured before (empty: first install)
#   rpm: $1 = 1 on a first install, 2 or more on an upgrade
set -e
first=0
case "${1:-}" in
  configure) [ -z "${2:-}" ] && first=1 ;;
  1) first=1 ;;
esac

chown hotswap:hotswap /var/lib/hotswap
chmod 0700 /var/lib/hotswap

command -v systemctl >/dev/null 2>&1 || exit 0
# systemd is running (not a container or chroot): it must see the new units.
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
fi
if [ "$first" = 1 ]; then
  # enable only writes the [Install] symlinks: it works without a running systemd.
  systemctl enable hotswapd.service hotswap-agent.service >/dev/null 2>&1 || true
  echo "hotswap: configure /etc/hotswap/hotswapd.yaml (control plane) or"
  echo "  /etc/hotswap/agent.yaml (database host), then"
  echo "  systemctl start hotswapd   or   systemctl start hotswap-agent"
  echo "  and disable the unit this host does not run."
elif [ -d /run/systemd/system ]; then
  systemctl try-restart hotswapd.service hotswap-agent.service || true
fi
