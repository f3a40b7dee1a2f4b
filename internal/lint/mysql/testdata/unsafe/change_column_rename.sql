-- expect: renaming-column
-- risk: High
ALTER TABLE users CHANGE COLUMN mail email VARCHAR(255) NOT NULL;
