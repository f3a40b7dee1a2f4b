-- expect: sqlserver-constraint-with-check
-- risk: Medium
ALTER TABLE dbo.orders ADD CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES dbo.customers (id);
