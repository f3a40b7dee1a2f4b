-- expect: ban-drop-column
-- risk: High
ALTER TABLE users DROP COLUMN legacy_flag;
