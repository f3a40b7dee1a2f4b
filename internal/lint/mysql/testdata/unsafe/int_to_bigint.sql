-- expect: mysql-column-type-change
-- risk: High
ALTER TABLE orders MODIFY COLUMN amount BIGINT NOT NULL;
