-- target: MySQL 5.7.44
-- expect: mysql-online-rebuild
-- risk: Medium
ALTER TABLE users ADD COLUMN last_login DATETIME NULL;
