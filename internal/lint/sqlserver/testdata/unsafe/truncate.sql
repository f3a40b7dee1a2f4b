-- expect: ban-truncate
-- risk: High
TRUNCATE TABLE dbo.events;
