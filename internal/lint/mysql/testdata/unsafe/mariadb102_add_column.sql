-- target: MariaDB 10.2.44
-- expect: mysql-online-rebuild
-- risk: Medium
alter table invoices add column paid_at datetime null;
