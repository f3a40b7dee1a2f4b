-- expect: sqlserver-index-not-online
-- risk: Medium
ALTER TABLE dbo.audit ADD CONSTRAINT pk_audit PRIMARY KEY CLUSTERED (id);
