-- expect: mysql-algorithm-copy
-- risk: High
ALTER TABLE orders ADD INDEX idx_status (status), ALGORITHM=COPY;
