-- expect: update-without-where
-- risk: Medium
UPDATE users SET active = true;
