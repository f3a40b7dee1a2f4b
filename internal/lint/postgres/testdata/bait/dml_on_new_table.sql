-- risk: Low
CREATE TABLE tmp_map AS SELECT id, email FROM users;
UPDATE tmp_map SET email = lower(email);
DELETE FROM tmp_map;
DROP TABLE tmp_map;
