-- expect: sqlserver-index-not-online
-- risk: Medium
CREATE NONCLUSTERED INDEX ix_orders_customer ON dbo.orders (customer_id) INCLUDE (total);
