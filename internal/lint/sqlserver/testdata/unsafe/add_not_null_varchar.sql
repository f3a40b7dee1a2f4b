-- expect: sqlserver-add-not-null-without-default
-- risk: Medium
ALTER TABLE [sales].[Order Lines] ADD [note] nvarchar(200) NOT NULL;
