-- expect: none
-- risk: Low
CREATE TABLE dbo.staging (id int NOT NULL, note varchar(10) NULL);
ALTER TABLE dbo.staging ADD flag bit NOT NULL;
ALTER TABLE dbo.staging ALTER COLUMN note varchar(5) NOT NULL;
CREATE INDEX ix_staging_note ON dbo.staging (note);
DROP TABLE dbo.staging;
