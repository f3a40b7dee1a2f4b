-- expect: renaming-table
-- risk: High
RENAME TABLE customers TO clients;
