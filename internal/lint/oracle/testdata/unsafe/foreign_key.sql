-- expect: oracle-validating-constraint
-- risk: Medium
ALTER TABLE app.orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES app.customers (id);
