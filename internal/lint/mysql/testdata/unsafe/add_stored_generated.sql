-- expect: mysql-add-stored-generated
-- risk: High
ALTER TABLE orders ADD COLUMN total_cents BIGINT AS (total * 100) STORED;
