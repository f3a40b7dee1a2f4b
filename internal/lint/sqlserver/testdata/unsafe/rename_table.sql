-- expect: renaming-table
-- risk: High
EXEC sp_rename N'dbo.orders', N'purchase_orders';
