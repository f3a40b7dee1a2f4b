-- expect: renaming-column
-- risk: High
ALTER TABLE users RENAME COLUMN name TO full_name;
