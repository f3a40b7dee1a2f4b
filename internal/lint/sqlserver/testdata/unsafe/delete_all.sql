-- expect: delete-without-where
-- risk: High
DELETE FROM dbo.sessions;
