-- risk: High
-- hotswap:ignore ban-drop-column unused since v3, archived to S3
ALTER TABLE users DROP COLUMN legacy_flag;
