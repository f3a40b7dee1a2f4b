-- expect: unbatched-dml
-- risk: Medium
-- archive everything older than two years
UPDATE orders SET archived = true WHERE created_at < now() - interval '2 years';
