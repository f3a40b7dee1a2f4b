#!/bin/sh
# Creates the hotswap system user and group the services run as, before the
# files owned by them are unpacked. Runs on install and on upgrade.
set -e
if ! getent group hotswap >/dev/null; then
  groupadd --system hotswap
fi
if ! getent passwd hotswap >/dev/null; then
  useradd --system --gid hotswap --home-dir /var/lib/hotswap --no-create-home \
    --shell /usr/sbin/nologin --comment "HotSwap" hotswap
fi
