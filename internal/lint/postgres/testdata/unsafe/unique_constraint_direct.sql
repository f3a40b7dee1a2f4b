-- expect: disallowed-unique-constraint
-- risk: Medium
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
