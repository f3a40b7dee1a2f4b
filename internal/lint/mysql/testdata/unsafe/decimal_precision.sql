-- expect: mysql-column-type-change
-- risk: High
-- release 12: wider totals; the new lookup table is created first
CREATE TABLE currencies (code CHAR(3) PRIMARY KEY, name VARCHAR(64) NOT NULL);
CREATE INDEX idx_currencies_name ON currencies (name);
ALTER TABLE `shop`.`orders` MODIFY total DECIMAL(14,2) NOT NULL DEFAULT 0;
