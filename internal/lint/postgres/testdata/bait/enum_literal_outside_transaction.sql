-- risk: Low
ALTER TYPE order_status ADD VALUE 'void';
SELECT count(*) FROM orders WHERE status = 'void';
