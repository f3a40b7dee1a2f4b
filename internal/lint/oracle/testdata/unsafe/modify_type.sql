-- expect: oracle-column-type-change
-- risk: High
ALTER TABLE app.orders MODIFY (amount NUMBER(12,2));
