-- expect: vacuum-in-transaction
-- risk: Medium
BEGIN;
DELETE FROM sessions WHERE id = 3;
VACUUM ANALYZE sessions;
COMMIT;
