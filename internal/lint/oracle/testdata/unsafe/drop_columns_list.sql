-- expect: ban-drop-column
-- risk: High
ALTER TABLE app.orders DROP (legacy_flag, legacy_code) CASCADE CONSTRAINTS;
