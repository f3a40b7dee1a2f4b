-- expect: renaming-table
-- risk: High
RENAME orders TO orders_v1;
