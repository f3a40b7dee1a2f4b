-- expect: ban-drop-column
-- risk: High
ALTER TABLE users DROP COLUMN deleted_at;
