-- expect: renaming-column
-- risk: High
-- setup: ALTER TABLE users DROP COLUMN email, ADD COLUMN mail VARCHAR(255);
ALTER TABLE users CHANGE COLUMN mail email VARCHAR(255) NOT NULL;
