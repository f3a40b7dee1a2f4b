-- risk: Low
UPDATE users SET status = 'active' WHERE status IS NULL LIMIT 5000;
