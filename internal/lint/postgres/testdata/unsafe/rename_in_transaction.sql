-- expect: renaming-column
-- risk: High
BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE billing.invoices RENAME COLUMN note TO memo;
COMMIT;
