-- expect: oracle-index-not-online
-- risk: Medium
CREATE INDEX app.orders_customer ON app.orders (customer_id);
