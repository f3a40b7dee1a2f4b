-- expect: renaming-column
-- risk: High
EXEC sp_rename 'dbo.users.fullname', 'display_name', 'COLUMN';
