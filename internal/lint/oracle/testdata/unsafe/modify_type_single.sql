-- expect: oracle-column-type-change
-- risk: High
ALTER TABLE app.orders MODIFY note CLOB;
