#!/usr/bin/env bash
# Checks the systemd units offline: `systemd-analyze verify` clean, and
# `systemd-analyze security` exposure at most MAX_EXPOSURE (default 1.5, on
# systemd's 0-10 scale; lower is safer).
# Before the package is installed the programs are not in /usr/bin, so
# verify's "is not executable" about them alone is expected; once the .deb
# is installed (scripts/check-package.sh), nothing at all is.
set -euo pipefail
cd "$(dirname "$0")/.."
max=${MAX_EXPOSURE:-1.5}
command -v systemd-analyze >/dev/null || { echo "check-systemd: systemd-analyze not found (apt-get install systemd)" >&2; exit 1; }
units=(systemd/hotswapd.service systemd/hotswap-agent.service)
[ "$#" -gt 0 ] && units=("$@")
status=0
for unit in "${units[@]}"; do
  out=$(systemd-analyze verify --man=no "$unit" 2>&1 || true)
  for prog in hotswapd hotswap-agent; do
    [ -x "/usr/bin/$prog" ] || out=$(grep -v "Command /usr/bin/$prog is not executable" <<<"$out" || true)
  done
  if [ -n "$out" ]; then
    echo "check-systemd: systemd-analyze verify $unit:" >&2
    echo "$out" >&2
    status=1
  fi
  line=$(systemd-analyze security --offline=yes --no-pager "$unit" 2>&1 | grep 'Overall exposure level' || true)
  score=$(sed -n 's/.*: \([0-9.]*\) .*/\1/p' <<<"$line")
  if [ -z "$score" ] || ! awk -v s="$score" -v m="$max" 'BEGIN { exit !(s <= m) }'; then
    echo "check-systemd: $unit: ${line:-no security rating}, want at most $max" >&2
    status=1
  else
    echo "check-systemd: $unit: exposure $score (at most $max), verify clean"
  fi
done
exit $status
