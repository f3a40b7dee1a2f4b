-- expect: ban-drop-column
-- risk: High
ALTER TABLE app.orders SET UNUSED (legacy_flag);
