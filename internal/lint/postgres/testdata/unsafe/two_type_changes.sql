-- expect: changing-column-type
-- risk: High
ALTER TABLE billing.invoices ALTER COLUMN amount_cents TYPE bigint, ALTER COLUMN note TYPE text;
