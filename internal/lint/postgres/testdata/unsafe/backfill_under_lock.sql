-- expect: lock-held-across-work, unbatched-dml
-- risk: Medium
BEGIN;
ALTER TABLE users ADD COLUMN score integer;
UPDATE users SET score = 0 WHERE score IS NULL;
COMMIT;
