-- expect: mysql-online-rebuild
-- risk: Medium
ALTER TABLE order_items DROP PRIMARY KEY, ADD PRIMARY KEY (order_id, line_no);
