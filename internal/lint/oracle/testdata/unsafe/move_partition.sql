-- expect: oracle-move-not-online
-- risk: High
ALTER TABLE app.sales MOVE PARTITION p2019 TABLESPACE archive COMPRESS;
