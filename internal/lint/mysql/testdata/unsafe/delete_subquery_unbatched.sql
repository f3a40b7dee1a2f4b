-- expect: unbatched-dml
-- risk: Medium
DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE deleted = 1);
