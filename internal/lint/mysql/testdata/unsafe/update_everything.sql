-- expect: update-without-where
-- risk: Medium
UPDATE users SET newsletter = 0;
