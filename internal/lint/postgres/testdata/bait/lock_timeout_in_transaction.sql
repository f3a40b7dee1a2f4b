-- risk: Low
BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE users ADD COLUMN last_seen timestamptz;
COMMIT;
