-- expect: none
-- risk: Medium
ALTER TABLE app.orders ADD CONSTRAINT orders_amount_ck CHECK (amount >= 0) ENABLE NOVALIDATE;
ALTER TABLE app.orders MODIFY CONSTRAINT orders_amount_ck VALIDATE;
