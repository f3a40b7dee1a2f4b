-- risk: High
-- hotswap:ignore ban-drop-column unused since release 4.2, backup in the archive bucket
ALTER TABLE users DROP COLUMN deleted_at;
