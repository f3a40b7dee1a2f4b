-- expect: ban-drop-column
-- risk: High
ALTER TABLE app.orders DROP COLUMN legacy_flag;
