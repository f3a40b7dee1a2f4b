-- expect: enum-value-used-in-transaction
-- risk: Medium
-- setup: CREATE TABLE payments (id bigserial PRIMARY KEY, state order_status NOT NULL DEFAULT 'pending');
-- setup: INSERT INTO payments (state) VALUES ('paid');
BEGIN;
ALTER TYPE order_status ADD VALUE 'refunded';
UPDATE payments SET state = 'refunded' WHERE id = 1;
COMMIT;
