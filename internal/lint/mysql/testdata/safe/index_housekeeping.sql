-- risk: Low
ALTER TABLE orders DROP INDEX idx_old_status, ALGORITHM=INPLACE, LOCK=NONE;
ALTER TABLE orders RENAME INDEX idx_user TO idx_orders_user;
