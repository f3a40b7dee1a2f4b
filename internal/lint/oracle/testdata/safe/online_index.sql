-- expect: none
-- risk: Low
CREATE INDEX app.orders_customer ON app.orders (customer_id) ONLINE;
ALTER INDEX app.orders_customer REBUILD ONLINE;
