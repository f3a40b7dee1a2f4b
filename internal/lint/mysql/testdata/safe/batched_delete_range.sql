-- risk: Low
DELETE FROM audit_log WHERE id BETWEEN 1 AND 10000;
DELETE FROM audit_log WHERE id >= 10001 AND id < 20001;
