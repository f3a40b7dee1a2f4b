-- risk: Low
ALTER TABLE users ADD COLUMN score integer;
UPDATE users SET score = 0 WHERE ctid = ANY (ARRAY(SELECT ctid FROM users WHERE score IS NULL LIMIT 10000));
