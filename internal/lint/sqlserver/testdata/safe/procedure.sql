-- expect: none
-- risk: Low
CREATE OR ALTER PROCEDURE dbo.purge_sessions @before datetime2
AS
BEGIN
    SET NOCOUNT ON;
    DELETE FROM dbo.sessions WHERE expires_at < @before;
END
GO
