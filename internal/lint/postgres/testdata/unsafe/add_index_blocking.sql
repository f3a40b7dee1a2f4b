-- expect: require-concurrent-index-creation
-- risk: Medium
-- 0042: speed up the login lookup
SET lock_timeout = '5s';
create index idx_users_email on users (email);
