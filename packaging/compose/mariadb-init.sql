-- Run once by the MariaDB image's entrypoint on an empty data folder, on the
-- primary and on the replica alike (docker-compose.yml), outside the binlog:
-- each server grants its own user, so nothing here replicates. The agent's
-- user gets what the test bed gives it: it reads performance_schema and the
-- replica status, creates the `hotswap` history schema, and runs a rolling
-- schema change's replica step with sql_log_bin=0 on a read-only replica.
SET SESSION sql_log_bin = 0;
GRANT ALL PRIVILEGES ON *.* TO 'hotswap'@'%';
