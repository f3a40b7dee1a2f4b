-- expect: ban-drop-partition
-- risk: High
ALTER TABLE metrics DROP PARTITION p2019;
