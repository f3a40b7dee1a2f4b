-- risk: Low
INSERT INTO orders (user_id, status) VALUES (1, 'DROP TABLE users; TRUNCATE orders');
SELECT 'ALTER TABLE users DROP COLUMN email' AS note;
