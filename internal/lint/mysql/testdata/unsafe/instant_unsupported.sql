-- expect: mysql-algorithm-unsupported
-- risk: Medium
ALTER TABLE users ADD INDEX idx_country (country), ALGORITHM=INSTANT;
