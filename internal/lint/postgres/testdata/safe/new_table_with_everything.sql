-- risk: Low
CREATE TABLE invoice_lines (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_id bigint NOT NULL,
    sku text NOT NULL,
    qty integer NOT NULL DEFAULT 1
);
CREATE INDEX invoice_lines_invoice ON invoice_lines (invoice_id);
ALTER TABLE invoice_lines ADD CONSTRAINT invoice_lines_invoice_fk FOREIGN KEY (invoice_id) REFERENCES billing.invoices (id);
ALTER TABLE invoice_lines ADD CONSTRAINT invoice_lines_sku_key UNIQUE (sku);
ALTER TABLE invoice_lines ALTER COLUMN qty TYPE bigint;
