-- expect: ban-truncate
-- risk: High
ALTER TABLE app.sales TRUNCATE PARTITION p2015;
