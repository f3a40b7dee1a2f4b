-- risk: Low
CREATE TABLE audit_events (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), kind text);
CREATE INDEX audit_events_at ON audit_events (at);
ALTER TABLE audit_events ADD COLUMN actor bigint NOT NULL;
ALTER TABLE audit_events ALTER COLUMN actor TYPE bigint;
ALTER TABLE audit_events ADD COLUMN token uuid DEFAULT gen_random_uuid();
ALTER TABLE audit_events ALTER COLUMN kind SET NOT NULL;
