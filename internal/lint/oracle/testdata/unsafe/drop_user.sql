-- expect: ban-drop-schema
-- risk: High
DROP USER legacy CASCADE;
