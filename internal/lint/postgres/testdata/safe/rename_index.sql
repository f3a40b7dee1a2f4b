-- risk: Low
ALTER INDEX idx_orders_status RENAME TO orders_status_idx;
