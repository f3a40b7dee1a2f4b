-- expect: set-tablespace
-- risk: High
ALTER TABLE orders SET TABLESPACE pg_default;
