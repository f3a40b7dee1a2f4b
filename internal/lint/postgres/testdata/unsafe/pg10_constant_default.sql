-- target: PostgreSQL 10
-- expect: add-column-volatile-default
-- risk: High
ALTER TABLE users ADD COLUMN plan text DEFAULT 'free';
