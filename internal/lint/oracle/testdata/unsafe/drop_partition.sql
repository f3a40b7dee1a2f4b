-- expect: ban-drop-partition
-- risk: High
ALTER TABLE app.sales DROP PARTITION p2015 UPDATE GLOBAL INDEXES;
