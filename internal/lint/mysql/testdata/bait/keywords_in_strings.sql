-- risk: Low
INSERT INTO migrations_log (msg) VALUES ('DROP TABLE users; DELETE FROM orders');
SELECT "RENAME TABLE a TO b; TRUNCATE c" AS note;
