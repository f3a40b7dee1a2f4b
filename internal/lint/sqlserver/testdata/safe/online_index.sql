-- expect: none
-- risk: Low
CREATE INDEX ix_orders_customer ON dbo.orders (customer_id) WITH (ONLINE = ON, MAXDOP = 2);
