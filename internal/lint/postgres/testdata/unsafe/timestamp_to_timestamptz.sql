-- expect: changing-column-type
-- risk: High
-- setup: CREATE TABLE logins (id bigserial PRIMARY KEY, at timestamp);
-- setup: INSERT INTO logins (at) SELECT now() FROM generate_series(1, 10);
ALTER TABLE logins ALTER COLUMN at TYPE timestamptz;
