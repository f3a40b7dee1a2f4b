#!/usr/bin/env bash
# Checks docker-compose.yml and its Prometheus files offline, without a
# container engine: the compose file as Compose reads it (`docker compose
# config`, or Debian's docker-compose), Prometheus' config and alert rules
# (promtool check, promtool test rules), and the test that every file,
# image, program and flag the stack names exists (deploy/compose_test.go).
# scripts/install-deploy-tools.sh installs docker-compose and promtool.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null; then
  compose=(docker-compose)
else
  echo "check-compose: neither docker compose nor docker-compose is installed (scripts/install-deploy-tools.sh)" >&2
  exit 1
fi
command -v promtool >/dev/null || { echo "check-compose: promtool is not installed (scripts/install-deploy-tools.sh)" >&2; exit 1; }
"${compose[@]}" -f docker-compose.yml config -q
echo "check-compose: ${compose[*]} config: docker-compose.yml is valid"
promtool check config packaging/prometheus/prometheus.yml
promtool test rules packaging/prometheus/alerts_test.yml
$GO test -count=1 ./deploy/
