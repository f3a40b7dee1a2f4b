-- expect: set-not-null-without-check
-- risk: Medium
UPDATE users SET email = 'unknown@example.com' WHERE id = 1;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
