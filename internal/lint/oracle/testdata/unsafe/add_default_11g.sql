-- target: Oracle 11.2
-- expect: oracle-add-default-rewrite
-- risk: High
ALTER TABLE app.orders ADD (region VARCHAR2(8) DEFAULT 'EU');
