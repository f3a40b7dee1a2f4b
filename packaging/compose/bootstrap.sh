#!/bin/bash
# Token bootstrap of docker-compose.yml, run once the three servers are
# healthy (a leader is elected): finds the admin token the first leader
# wrote to its data folder, copies it to /tokens/admin.token and creates one
# agent token per agent in /tokens (kept across restarts: a token that
# exists is not made again), then registers the database `app` with its two
# instances and the database `shop` (MariaDB) with its two. Every step is idempotent, so `docker compose up` can run it again.
set -euo pipefail
umask 077
export HOTSWAP_ADDR=http://hotswap-1:5000 HOTSWAP_TOKEN_FILE=/tokens/admin.token
if [ ! -s /tokens/admin.token ]; then
  for _ in $(seq 60); do
    for f in /data/*/bootstrap-token; do
      [ -s "$f" ] && cp "$f" /tokens/admin.token && break 2
    done
    sleep 1
  done
fi
[ -s /tokens/admin.token ] || { echo "bootstrap: no bootstrap-token in any server's data" >&2; exit 1; }
for agent in db-primary db-standby mariadb-primary mariadb-replica; do
  if [ ! -s "/tokens/$agent.token" ]; then
    hotswap -o json agent token create "$agent" | sed -n 's/.*"token": *"\([^"]*\)".*/\1/p' > "/tokens/$agent.token.new"
    [ -s "/tokens/$agent.token.new" ] || { echo "bootstrap: no token for $agent" >&2; exit 1; }
    mv "/tokens/$agent.token.new" "/tokens/$agent.token"
  fi
done
if ! hotswap database show app >/dev/null 2>&1; then
  hotswap database register --name app --type PostgreSQL --environment Development \
    --instance db-primary/main=Master --instance db-standby/main=AsyncReplica
fi
if ! hotswap database show shop >/dev/null 2>&1; then
  hotswap database register --name shop --type MySQL --environment Development \
    --instance mariadb-primary/main=Master --instance mariadb-replica/main=AsyncReplica
fi
echo "bootstrap: admin token in /tokens/admin.token; agents db-primary, db-standby, mariadb-primary, mariadb-replica; databases app, shop"
