-- expect: ban-truncate
-- risk: High
TRUNCATE TABLE app.orders_staging;
