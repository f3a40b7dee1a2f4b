-- risk: Low
ALTER TABLE orders ADD COLUMN imported_at timestamptz DEFAULT now();
ALTER TABLE orders ADD COLUMN region text DEFAULT current_setting('app.region', true);
