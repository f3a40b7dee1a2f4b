-- expect: oracle-validating-constraint
-- risk: Medium
ALTER TABLE app.orders ADD CONSTRAINT orders_amount_ck CHECK (amount >= 0);
