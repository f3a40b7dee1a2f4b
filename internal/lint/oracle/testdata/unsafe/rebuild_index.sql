-- expect: oracle-index-not-online
-- risk: Medium
ALTER INDEX app.orders_customer REBUILD TABLESPACE idx2;
