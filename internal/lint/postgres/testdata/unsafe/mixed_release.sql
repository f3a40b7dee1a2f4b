-- expect: ban-drop-column, require-concurrent-index-creation
-- risk: High
-- release 7.3: new table, a lookup index and the end of the legacy flag
CREATE TABLE user_prefs (user_id bigint PRIMARY KEY, prefs jsonb NOT NULL DEFAULT '{}');
CREATE INDEX user_prefs_gin ON user_prefs USING gin (prefs);
ALTER TABLE users ADD COLUMN locale text DEFAULT 'en';
CREATE INDEX idx_users_locale ON users (locale);
ALTER TABLE users DROP COLUMN deleted_at;
