-- expect: oracle-constraint-index-not-online
-- risk: Medium
ALTER TABLE app.customers ADD UNIQUE (email, tenant_id);
