-- expect: oracle-add-not-null-without-default
-- risk: Medium
ALTER TABLE app.orders ADD (status VARCHAR2(10) NOT NULL);
