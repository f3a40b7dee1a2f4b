-- expect: add-column-stored-generated
-- risk: High
ALTER TABLE orders ADD COLUMN amount_x2 integer GENERATED ALWAYS AS (amount * 2) STORED;
