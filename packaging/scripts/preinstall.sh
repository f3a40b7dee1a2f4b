#!/bin/sh
# Creates the hotswap system user the services run as.
set -e
if ! getent passwd hotswap >/dev/null; then
  useradd --system --home-dir /var/lib/hotswap --shell /usr/sbin/nologin hotswap
fi
