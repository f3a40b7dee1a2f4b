-- risk: Low
CREATE TABLE staging_orders (id bigint);
ALTER TABLE staging_orders RENAME TO orders_2025;
ALTER TABLE orders_2025 RENAME COLUMN id TO order_id;
