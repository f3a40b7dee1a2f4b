-- expect: concurrently-in-transaction
-- risk: Medium
begin;
create index concurrently idx_sessions_user on sessions (user_id);
drop index concurrently if exists idx_orders_status;
commit;
