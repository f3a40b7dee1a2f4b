-- expect: ban-truncate
-- risk: High
TRUNCATE TABLE sessions;
