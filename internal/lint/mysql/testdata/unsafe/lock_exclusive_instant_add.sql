-- expect: mysql-lock-blocks-writes
-- risk: Medium
ALTER TABLE orders ADD COLUMN note TEXT, LOCK=EXCLUSIVE;
