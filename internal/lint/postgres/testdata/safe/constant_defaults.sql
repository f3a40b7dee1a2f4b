-- risk: Low
ALTER TABLE users ADD COLUMN plan text NOT NULL DEFAULT 'free';
ALTER TABLE users ADD COLUMN nickname text;
alter table users add column flags jsonb not null default '{}'::jsonb;
