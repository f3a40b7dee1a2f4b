-- expect: disallowed-unique-constraint
-- risk: Medium
ALTER TABLE users ADD COLUMN handle text UNIQUE;
