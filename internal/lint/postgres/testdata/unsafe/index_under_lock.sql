-- expect: lock-held-across-work, require-concurrent-index-creation
-- risk: Medium
BEGIN;
ALTER TABLE orders ADD COLUMN shipped_at timestamptz;
CREATE INDEX idx_orders_shipped ON orders (shipped_at);
COMMIT;
