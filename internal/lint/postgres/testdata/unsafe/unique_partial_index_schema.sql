-- expect: require-concurrent-index-creation
-- risk: Medium
CREATE UNIQUE INDEX invoices_order_uniq ON billing.invoices USING btree (order_id) WHERE status <> 'void';
