-- expect: none
-- risk: Low
UPDATE dbo.users SET is_active = 1 WHERE id = 42;
DELETE TOP (1000) FROM dbo.sessions WHERE expires_at < SYSUTCDATETIME();
UPDATE STATISTICS dbo.users;
