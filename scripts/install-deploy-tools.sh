#!/usr/bin/env bash
# Installs what `make check-deploy` needs on Debian/Ubuntu, when missing:
# docker-compose (validates docker-compose.yml offline), promtool (in
# Debian's prometheus package) and systemd-analyze (systemd).
set -euo pipefail
want=()
command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || want+=(docker-compose)
command -v promtool >/dev/null || want+=(prometheus)
command -v systemd-analyze >/dev/null || want+=(systemd)
[ ${#want[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "install-deploy-tools: installing ${want[*]}"
export DEBIAN_FRONTEND=noninteractive
# The packaged Prometheus must not start on its own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
