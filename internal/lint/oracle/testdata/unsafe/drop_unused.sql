-- expect: oracle-drop-unused-columns
-- risk: High
ALTER TABLE app.orders DROP UNUSED COLUMNS;
