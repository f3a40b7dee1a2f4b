-- expect: changing-column-type
-- risk: High
-- amounts overflow int4 for enterprise customers
ALTER TABLE orders ALTER COLUMN amount TYPE bigint;
