#!/bin/bash
# First start of the compose primary (docker-entrypoint-initdb.d): the
# agent's role may read every session's statistics, pg_stat_statements is
# installed in the application database, and the standby may replicate.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
GRANT pg_monitor TO CURRENT_USER;
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD 'change-me';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
