#!/bin/sh
# Before the files go: on removal (not on upgrade), stop and disable the units.
#   deb: $1 = remove, upgrade, deconfigure or failed-upgrade
#   rpm: $1 = 0 on removal, 1 or more on an upgrade
set -e
case "${1:-}" in
  remove|deconfigure|0) ;;
  *) exit 0 ;;
esac
command -v systemctl >/dev/null 2>&1 || exit 0
if [ -d /run/systemd/system ]; then
  systemctl stop hotswapd.service hotswap-agent.service || true
fi
systemctl disable hotswapd.service hotswap-agent.service >/dev/null 2>&1 || true
