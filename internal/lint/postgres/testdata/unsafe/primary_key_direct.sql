-- expect: disallowed-unique-constraint
-- risk: Medium
-- setup: CREATE TABLE audit_log (id bigint NOT NULL, msg text);
-- setup: INSERT INTO audit_log SELECT g, 'm' FROM generate_series(1, 20) g;
ALTER TABLE audit_log ADD PRIMARY KEY (id);
