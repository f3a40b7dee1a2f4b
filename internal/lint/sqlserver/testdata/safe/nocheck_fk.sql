-- expect: none
-- risk: Medium
ALTER TABLE dbo.orders WITH NOCHECK ADD CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES dbo.customers (id);
