-- risk: Low
UPDATE users SET active = false WHERE id BETWEEN 1 AND 10000;
UPDATE users SET active = false WHERE id >= 10001 AND id < 20001;
