-- expect: oracle-constraint-index-not-online
-- risk: Medium
ALTER TABLE app.orders ADD CONSTRAINT orders_pk PRIMARY KEY (id);
