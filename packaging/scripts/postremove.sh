#!/bin/sh
# After the files are gone. A removal keeps the data (/var/lib/hotswap: the
# Raft log, snapshots, the bootstrap token) and the configs; a purge (deb)
# deletes them. The hotswap user is kept, as Debian policy asks: files it
# owns may remain elsewhere (a PgBouncer config the agent rewrites).
#   deb: $1 = remove, purge, upgrade, ...
#   rpm: $1 = 0 on removal, 1 or more on an upgrade
set -e
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
fi
if [ "${1:-}" = purge ]; then
  rm -rf /var/lib/hotswap /etc/hotswap
fi
