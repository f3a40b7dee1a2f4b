-- expect: sqlserver-constraint-with-check
-- risk: Medium
ALTER TABLE dbo.orders WITH CHECK ADD CONSTRAINT ck_orders_total CHECK (total >= 0);
