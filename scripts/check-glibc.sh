#!/bin/sh
# Fails when a binary needs a newer glibc symbol version than the one the
# packages declare (packaging/nfpm.yaml: libc6 (>= X)), so an install on an
# older system is refused by dpkg instead of failing at run time.
# Usage: scripts/check-glibc.sh BINARY...
set -eu
cd "$(dirname "$0")/.."
declared=$(sed -n 's/.*libc6 (>= \([0-9.]*\)).*/\1/p' packaging/nfpm.yaml)
[ -n "$declared" ] || { echo "check-glibc: no libc6 dependency in packaging/nfpm.yaml" >&2; exit 1; }
status=0
for bin in "$@"; do
  need=$(objdump -T "$bin" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n1)
  [ -n "$need" ] || continue # static or no glibc symbols
  if [ "$(printf '%s\n%s\n' "$need" "$declared" | sort -V | tail -n1)" != "$declared" ]; then
    echo "check-glibc: $bin needs glibc $need, packages declare >= $declared" >&2
    status=1
  fi
done
exit $status
