-- expect: renaming-column
-- risk: High
ALTER TABLE app.orders RENAME COLUMN amount TO total;
