-- expect: refresh-matview-without-concurrently
-- risk: Medium
REFRESH MATERIALIZED VIEW order_totals;
