-- expect: changing-column-type
-- risk: High
ALTER TABLE orders ALTER COLUMN total TYPE integer USING round(total)::integer;
