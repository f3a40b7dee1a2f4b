-- risk: Low
-- setup: CREATE TABLE payments (id bigserial PRIMARY KEY, state order_status NOT NULL DEFAULT 'pending');
-- setup: INSERT INTO payments (state) VALUES ('paid');
BEGIN;
ALTER TYPE order_status ADD VALUE 'shipped';
COMMIT;
UPDATE payments SET state = 'shipped' WHERE id = 1;
