-- target: MariaDB 10.11
-- expect: ban-drop-table
-- risk: High
DROP TABLE legacy_audit;
