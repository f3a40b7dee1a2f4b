-- risk: Low
ALTER TABLE billing.invoices ALTER COLUMN note TYPE text;
