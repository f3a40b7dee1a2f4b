-- expect: add-column-identity
-- risk: High
ALTER TABLE orders ADD COLUMN line_no integer GENERATED ALWAYS AS IDENTITY;
