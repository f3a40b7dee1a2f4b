-- risk: Low
REINDEX INDEX CONCURRENTLY idx_orders_status;
