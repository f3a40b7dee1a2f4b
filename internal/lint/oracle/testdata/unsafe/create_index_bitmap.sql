-- expect: oracle-index-not-online
-- risk: Medium
-- a column named like the keyword is not the keyword
CREATE BITMAP INDEX app.orders_online_flag ON app.orders (online_flag) TABLESPACE idx;
