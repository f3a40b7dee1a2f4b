-- risk: Low
DROP INDEX CONCURRENTLY IF EXISTS idx_orders_status;
