-- expect: renaming-table
-- risk: High
ALTER TABLE app.orders RENAME TO orders_v1;
