-- expect: add-column-serial
-- risk: High
ALTER TABLE sessions ADD COLUMN seq bigserial;
