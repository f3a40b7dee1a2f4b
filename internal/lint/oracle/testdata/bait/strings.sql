-- expect: none
-- risk: Low
-- DROP TABLE app.orders; is only a comment here
INSERT INTO app.audit (msg) VALUES (q'[DROP TABLE app.orders; TRUNCATE TABLE app.x]');
INSERT INTO app.audit (msg) VALUES ('ALTER TABLE app.orders MOVE;');
/* ALTER TABLE app.orders DROP COLUMN x; */
COMMIT;
