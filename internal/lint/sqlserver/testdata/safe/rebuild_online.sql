-- expect: none
-- risk: Low
ALTER INDEX ALL ON dbo.orders REBUILD WITH (ONLINE = ON);
