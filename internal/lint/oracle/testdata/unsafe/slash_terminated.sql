-- expect: oracle-index-not-online
-- risk: Medium
CREATE INDEX app.orders_created ON app.orders (created_at)
/
