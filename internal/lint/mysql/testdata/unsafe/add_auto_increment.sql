-- expect: mysql-add-auto-increment
-- risk: High
ALTER TABLE legacy_events ADD COLUMN id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT UNIQUE;
