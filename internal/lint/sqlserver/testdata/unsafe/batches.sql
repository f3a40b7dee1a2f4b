-- expect: sqlserver-add-not-null-without-default, sqlserver-index-not-online
-- risk: Medium
ALTER TABLE dbo.orders ADD shipped_at datetime2 NOT NULL
GO
CREATE INDEX ix_orders_shipped ON dbo.orders (shipped_at)
GO
