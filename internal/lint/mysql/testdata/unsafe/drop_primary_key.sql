-- expect: mysql-drop-primary-key
-- risk: High
ALTER TABLE order_items DROP PRIMARY KEY;
