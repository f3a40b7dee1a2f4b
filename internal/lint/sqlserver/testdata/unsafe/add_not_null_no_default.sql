-- expect: sqlserver-add-not-null-without-default
-- risk: Medium
ALTER TABLE dbo.users ADD is_active bit NOT NULL;
