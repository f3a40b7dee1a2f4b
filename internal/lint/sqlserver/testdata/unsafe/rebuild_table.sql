-- expect: sqlserver-index-not-online
-- risk: Medium
ALTER TABLE dbo.orders REBUILD WITH (DATA_COMPRESSION = PAGE);
