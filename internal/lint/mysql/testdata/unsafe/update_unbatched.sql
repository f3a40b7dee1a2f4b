-- expect: unbatched-dml
-- risk: Medium
UPDATE orders SET archived = 1 WHERE created_at < '2023-01-01';
