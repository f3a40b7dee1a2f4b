-- expect: none
-- risk: Low
INSERT INTO dbo.notes (body) VALUES (N'DROP TABLE dbo.users
GO
TRUNCATE TABLE dbo.events');
