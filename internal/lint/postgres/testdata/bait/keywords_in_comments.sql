-- risk: Low
-- DROP TABLE users; we used to do this by hand
/* CREATE INDEX idx ON users (email); TRUNCATE orders; */
CREATE INDEX CONCURRENTLY idx_users_name ON users (name);
