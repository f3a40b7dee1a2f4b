-- expect: delete-without-where
-- risk: High
delete from sessions;
