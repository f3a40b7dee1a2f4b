-- expect: renaming-table
-- risk: High
ALTER TABLE sessions RENAME TO user_sessions;
