-- expect: none
-- risk: Low
CREATE TABLE dbo.scratch (id int NOT NULL, note nvarchar(40) NULL, old_flag bit NULL);
ALTER TABLE dbo.scratch ADD region char(2) NULL CONSTRAINT df_scratch_region DEFAULT 'EU' WITH VALUES;
ALTER TABLE dbo.scratch ADD CONSTRAINT fk_scratch_parent FOREIGN KEY (id) REFERENCES dbo.parents (id);
ALTER TABLE dbo.scratch ALTER COLUMN note nvarchar(20) NOT NULL;
ALTER TABLE dbo.scratch DROP COLUMN old_flag;
TRUNCATE TABLE dbo.scratch;
DELETE FROM dbo.scratch;
EXEC sp_rename 'dbo.scratch.note', 'remark', 'COLUMN';
