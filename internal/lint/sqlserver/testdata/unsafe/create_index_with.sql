-- expect: sqlserver-index-not-online
-- risk: Medium
CREATE UNIQUE INDEX ux_users_email ON dbo.users (email) WITH (FILLFACTOR = 90) ON [PRIMARY];
