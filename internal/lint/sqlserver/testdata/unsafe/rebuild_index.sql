-- expect: sqlserver-index-not-online
-- risk: Medium
ALTER INDEX ix_orders_customer ON dbo.orders REBUILD;
