-- expect: constraint-missing-not-valid
-- risk: Medium
alter table billing.invoices add constraint invoices_amount_positive check (amount_cents > 0);
