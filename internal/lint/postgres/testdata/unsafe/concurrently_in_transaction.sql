-- expect: concurrently-in-transaction
-- risk: Medium
BEGIN;
ALTER TABLE orders ADD COLUMN note text;
CREATE INDEX CONCURRENTLY idx_orders_user ON orders (user_id);
COMMIT;
