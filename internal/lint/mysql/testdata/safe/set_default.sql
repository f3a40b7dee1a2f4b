-- risk: Low
ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'new';
