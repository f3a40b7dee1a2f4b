-- expect: constraint-missing-not-valid
-- risk: Medium
CREATE TABLE org_settings (org_id bigint PRIMARY KEY REFERENCES orgs (id), theme text);
CREATE INDEX org_settings_theme ON org_settings (theme);
ALTER TABLE orders ADD COLUMN org_id bigint REFERENCES orgs (id);
