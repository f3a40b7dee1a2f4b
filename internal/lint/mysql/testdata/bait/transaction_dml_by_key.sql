-- risk: Low
START TRANSACTION;
UPDATE accounts SET balance = balance - 10 WHERE id = 7;
UPDATE accounts SET balance = balance + 10 WHERE id = 8;
COMMIT;
