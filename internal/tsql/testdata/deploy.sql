/* Deployment script for Sales, as SSMS writes it.
   /* nested: GO
      still in the comment */
   GO
*/
SET ANSI_NULLS ON
GO
SET QUOTED_IDENTIFIER ON
go
IF NOT EXISTS (SELECT 1 FROM sys.schemas WHERE name = N'sales')
    EXEC (N'CREATE SCHEMA [sales]');
GO
CREATE TABLE [sales].[Order Lines] (
    [id] int NOT NULL,
    [note] nvarchar(200) NOT NULL DEFAULT N'GO
GO
it''s a note',
    "GO" int NULL -- a column named GO
);
CREATE INDEX [ix_order lines]] note] ON [sales].[Order Lines] ([note]) WITH (ONLINE = ON)
GO 2
CREATE OR ALTER PROCEDURE sales.touch @id int
AS
BEGIN
    UPDATE [sales].[Order Lines] SET note = N'x' WHERE id = @id;
    SELECT CASE WHEN @id > 0 THEN 1 ELSE 0 END;
END
  GO  -- end of the procedure
PRINT 'done'
