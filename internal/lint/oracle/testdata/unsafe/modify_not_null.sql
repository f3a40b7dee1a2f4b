-- expect: oracle-modify-not-null
-- risk: Medium
ALTER TABLE app.orders MODIFY (customer_id NOT NULL);
