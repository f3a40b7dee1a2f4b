-- risk: Low
COMMENT ON COLUMN users.email IS 'login, lower case';
CREATE VIEW active_users AS SELECT * FROM users WHERE active;
GRANT SELECT ON active_users TO PUBLIC;
