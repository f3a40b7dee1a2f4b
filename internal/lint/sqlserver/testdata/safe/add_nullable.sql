-- expect: none
-- risk: Low
ALTER TABLE dbo.users ADD nickname nvarchar(50) NULL;
