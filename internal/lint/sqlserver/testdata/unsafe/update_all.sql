-- expect: update-without-where
-- risk: Medium
UPDATE dbo.users SET is_active = 1;
