-- risk: Low
DELETE FROM sessions WHERE id = 42;
UPDATE users SET email = 'a@example.com' WHERE id IN (1, 2, 3);
