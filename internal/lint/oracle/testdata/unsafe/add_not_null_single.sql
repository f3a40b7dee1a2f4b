-- expect: oracle-add-not-null-without-default
-- risk: Medium
ALTER TABLE app.orders ADD priority NUMBER(2) CONSTRAINT orders_priority_nn NOT NULL;
