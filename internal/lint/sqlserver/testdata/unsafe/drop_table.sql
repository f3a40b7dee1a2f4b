-- expect: ban-drop-table
-- risk: High
DROP TABLE IF EXISTS dbo.old_sessions;
