-- target: MariaDB 10.11
-- risk: Low
ALTER TABLE invoices ADD COLUMN region CHAR(2) NOT NULL DEFAULT 'EU' FIRST;
