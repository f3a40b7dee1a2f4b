-- expect: require-concurrent-index-deletion
-- risk: Medium
-- the status index is replaced by the composite one below
CREATE INDEX CONCURRENTLY idx_orders_status_created ON orders (status, created_at);
DROP INDEX idx_orders_status;
