/****** Object:  Table [dbo].[Orders -- archive]    Script Date: 2026-11-02 ******/
SET ANSI_NULLS ON
GO
SET ANSI_PADDING ON
GO
IF NOT EXISTS (SELECT * FROM sys.objects WHERE object_id = OBJECT_ID(N'[dbo].[Orders -- archive]') AND type in (N'U'))
BEGIN
CREATE TABLE [dbo].[Orders -- archive](
	[id] [int] NOT NULL,
	[memo] [nvarchar](max) NULL CONSTRAINT [df_memo] DEFAULT (N'/* not a comment */'),
 CONSTRAINT [PK_Orders] PRIMARY KEY CLUSTERED ([id] ASC)
	WITH (PAD_INDEX = OFF, STATISTICS_NORECOMPUTE = OFF) ON [PRIMARY]
) ON [PRIMARY] TEXTIMAGE_ON [PRIMARY]
END
GO
EXEC dbo.sp_executesql @statement = N'CREATE VIEW [dbo].[v_orders] AS SELECT ''GO'' AS [x]
GO
-- still inside the string
'
GO
insert into [dbo].[Orders -- archive] ([id]) values (1)
go 10
