-- risk: Medium
BEGIN;
ALTER TABLE billing.invoices ADD CONSTRAINT invoices_amount_nonneg CHECK (amount_cents >= 0) NOT VALID;
COMMIT;
BEGIN;
ALTER TABLE billing.invoices VALIDATE CONSTRAINT invoices_amount_nonneg;
COMMIT;
