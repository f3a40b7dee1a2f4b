-- expect: mysql-algorithm-unsupported, mysql-column-type-change
-- risk: High
ALTER TABLE payments MODIFY amount DECIMAL(12,2) NOT NULL, ALGORITHM=INPLACE, LOCK=NONE;
