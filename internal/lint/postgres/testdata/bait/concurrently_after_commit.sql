-- risk: Low
BEGIN;
ALTER TABLE users ADD COLUMN bio text;
COMMIT;
CREATE INDEX CONCURRENTLY idx_users_bio ON users (bio);
