-- expect: none
-- risk: Low
/* DROP TABLE dbo.users; /* nested: ALTER TABLE dbo.users DROP COLUMN id */ still a comment */
ALTER TABLE dbo.users ADD [DROP COLUMN] int NULL;
