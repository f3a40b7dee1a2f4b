-- expect: mysql-lock-blocks-writes
-- risk: Medium
ALTER TABLE users ADD INDEX idx_created (created_at), LOCK=SHARED;
