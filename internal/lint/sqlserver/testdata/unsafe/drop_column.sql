-- expect: ban-drop-column
-- risk: High
ALTER TABLE dbo.users DROP COLUMN legacy_flag;
