-- expect: sqlserver-index-not-online
-- risk: Medium
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE name = N'ix_orders_status')
BEGIN
    CREATE INDEX ix_orders_status ON dbo.orders (status)
END
GO
