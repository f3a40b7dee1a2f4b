-- expect: add-column-not-null-without-default
-- risk: Medium
-- every user belongs to a tenant from now on
ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL;
