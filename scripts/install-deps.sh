#!/usr/bin/env bash
# Installs what HotSwap's tests and demo need on Debian/Ubuntu, when it is
# missing: PostgreSQL (server, contrib, client), MariaDB, PgBouncer, protoc, and
# Chromium and Firefox ESR (the web console's browser tests, internal/e2e TestConsole*).
# Usage: scripts/install-deps.sh [protoc]
set -euo pipefail

want=(postgresql postgresql-contrib postgresql-client mariadb-server pgbouncer protobuf-compiler chromium firefox-esr)
[ "${1:-}" = protoc ] && want=(protobuf-compiler)

missing=()
for p in "${want[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "install-deps: need ${missing[*]}; this script knows apt-get (Debian/Ubuntu) only" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Packaged services must not start on their own: the test bed runs its own.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
