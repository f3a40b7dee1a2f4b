-- expect: reindex-without-concurrently
-- risk: Medium
REINDEX INDEX idx_orders_status;
reindex table users;
