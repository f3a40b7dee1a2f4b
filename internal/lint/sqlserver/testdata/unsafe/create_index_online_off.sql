-- expect: sqlserver-index-not-online
-- risk: Medium
CREATE INDEX ix_events_at ON dbo.events (occurred_at) WITH (ONLINE = OFF, SORT_IN_TEMPDB = ON);
