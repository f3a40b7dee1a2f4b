-- expect: ban-drop-column, mysql-column-type-change
-- risk: High
CREATE TABLE IF NOT EXISTS `audit_trail` (`id` BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, `msg` TEXT);
ALTER TABLE `audit_trail` ADD INDEX `idx_msg` (`msg`(32));
ALTER TABLE users ADD COLUMN timezone VARCHAR(64) NULL, ALGORITHM=INSTANT;
ALTER TABLE users MODIFY COLUMN age SMALLINT UNSIGNED;
ALTER TABLE users DROP COLUMN fax;
