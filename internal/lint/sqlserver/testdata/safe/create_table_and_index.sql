-- expect: none
-- risk: Low
CREATE TABLE dbo.audit_log (id bigint IDENTITY(1, 1) NOT NULL, at datetime2 NOT NULL, CONSTRAINT pk_audit_log PRIMARY KEY (id));
CREATE INDEX ix_audit_log_at ON dbo.audit_log (at);
GO
