-- expect: sqlserver-alter-column-type
-- risk: High
ALTER TABLE dbo.orders ALTER COLUMN total decimal(19, 4);
