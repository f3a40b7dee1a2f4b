-- expect: ban-drop-schema
-- risk: High
DROP SCHEMA billing CASCADE;
