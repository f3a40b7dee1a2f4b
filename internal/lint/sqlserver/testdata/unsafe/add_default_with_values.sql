-- expect: sqlserver-add-default-with-values
-- risk: High
ALTER TABLE dbo.users ADD region char(2) NULL CONSTRAINT df_users_region DEFAULT 'EU' WITH VALUES;
