-- risk: Low
ALTER TABLE users ADD COLUMN middle_name VARCHAR(50) AFTER first_name;
