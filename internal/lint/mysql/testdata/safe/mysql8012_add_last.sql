-- target: MySQL 8.0.12
-- risk: Low
ALTER TABLE users ADD COLUMN bio TEXT;
