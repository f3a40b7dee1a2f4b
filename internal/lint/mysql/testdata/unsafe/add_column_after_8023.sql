-- target: MySQL 8.0.23
-- expect: mysql-online-rebuild
-- risk: Medium
ALTER TABLE users ADD COLUMN middle_name VARCHAR(50) NULL AFTER first_name;
