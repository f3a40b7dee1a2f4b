-- expect: ban-drop-table
-- risk: High
DROP TABLE app.orders_archive PURGE;
