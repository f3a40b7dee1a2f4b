-- target: MariaDB 10.3.39
-- expect: mysql-online-rebuild
-- risk: Medium
ALTER TABLE invoices ADD COLUMN region CHAR(2) NOT NULL DEFAULT 'EU' FIRST;
