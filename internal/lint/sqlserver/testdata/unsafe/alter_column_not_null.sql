-- expect: sqlserver-alter-column-not-null
-- risk: Medium
ALTER TABLE dbo.orders ALTER COLUMN customer_id int NOT NULL;
