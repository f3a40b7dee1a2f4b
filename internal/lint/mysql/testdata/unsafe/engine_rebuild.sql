-- expect: mysql-online-rebuild
-- risk: Medium
ALTER TABLE sessions ENGINE=InnoDB;
