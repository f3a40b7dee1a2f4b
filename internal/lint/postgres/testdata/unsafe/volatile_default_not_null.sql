-- expect: add-column-volatile-default
-- risk: High
alter table orders add column synced_at timestamptz not null default clock_timestamp();
