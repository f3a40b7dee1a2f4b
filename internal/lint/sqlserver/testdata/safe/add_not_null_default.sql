-- expect: none
-- risk: Low
ALTER TABLE dbo.users ADD is_active bit NOT NULL CONSTRAINT df_users_is_active DEFAULT 1;
