#!/bin/bash
# The compose standby: on its first start, a base backup of the primary
# (pg_basebackup -R writes primary_conninfo and standby.signal); then a hot
# standby streaming from it. Runs as the postgres user.
set -euo pipefail
export PGPASSWORD=change-me
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_basebackup --host=postgres --username=replicator --pgdata="$PGDATA" \
      --write-recovery-conf --wal-method=stream --checkpoint=fast; do
    rm -rf "${PGDATA:?}"/*
    echo "standby: primary not ready, retrying" >&2
    sleep 2
  done
fi
chmod 0700 "$PGDATA"
exec postgres -c hot_standby=on -c shared_preload_libraries=pg_stat_statements
