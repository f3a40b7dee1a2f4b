package sqlserver

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	mssql "github.com/microsoft/go-mssqldb"

	"github.com/hotswap-db/hotswap/internal/dialect"
)

// server is a fake SQL Server of the given engine edition (3 Enterprise,
// 2 Standard) whose history tables exist and record maxToken, the step
// applied or not.
func server(edition int, maxToken int64, applied bool) *fakeDB {
	f := &fakeDB{}
	name := map[int]string{2: "Standard Edition (64-bit)", 3: "Enterprise Edition (64-bit)"}[edition]
	f.on("SERVERPROPERTY('ProductVersion')", []any{"16.0.4135.4", name, int64(edition), "SQL1", "app", "READ_WRITE", int64(0), int64(57)})
	f.on("OBJECT_ID(N'hotswap.schema_history', N'U') IS NOT NULL", []any{int64(1)})
	appliedInt := int64(0)
	if applied {
		appliedInt = 1
	}
	f.on("WITH (UPDLOCK, HOLDLOCK)", []any{maxToken, appliedInt})
	return f
}

func request(script string) dialect.StepRequest {
	return dialect.StepRequest{ExecutionID: "e1", StepID: "s1", MigrationID: "m1", MigrationName: "add c",
		Script: script, Checksum: strings.Repeat("a", 64), FencingToken: 7, AppliedBy: "agent",
		LockTimeout: 200 * time.Millisecond, Deadline: time.Now().Add(20 * time.Second)}
}

var lockTimeout = mssql.Error{Number: 1222, Class: 16, Message: "Lock request time out period exceeded."}

// TestTransactionalRetriesLockTimeout drives the retry with the driver's
// own error 1222: the whole transaction is rolled back and run again, and
// the history row commits with the DDL.
func TestTransactionalRetriesLockTimeout(t *testing.T) {
	f := server(3, 3, false)
	f.onFunc("ALTER TABLE dbo.t ADD c int NULL", func(n int, _ []any) ([][]any, error) {
		if n == 0 {
			return nil, lockTimeout
		}
		return nil, nil
	})
	out, err := f.conn(t).ExecuteStep(t.Context(), request("ALTER TABLE dbo.t ADD c int NULL"), nil)
	if err != nil || out.Error != nil {
		t.Fatalf("ExecuteStep = %+v, %v", out.Error, err)
	}
	if out.Retries != 1 || !out.Transactional || len(out.Statements) != 1 || out.Statements[0].Attempts != 2 {
		t.Errorf("outcome = %+v, want one retry, transactional, one batch in 2 attempts", out)
	}
	got := f.sequence("SET LOCK_TIMEOUT 200; SET XACT_ABORT ON", "BEGIN TRANSACTION", "UPDLOCK", "ALTER TABLE dbo.t",
		"ROLLBACK", "INSERT INTO hotswap.schema_history", "COMMIT")
	want := []string{"SET LOCK_TIMEOUT 200; SET XACT_ABORT ON", "BEGIN TRANSACTION", "UPDLOCK", "ALTER TABLE dbo.t", "ROLLBACK",
		"BEGIN TRANSACTION", "UPDLOCK", "ALTER TABLE dbo.t", "INSERT INTO hotswap.schema_history", "COMMIT"}
	if !slices.Equal(got, want) {
		t.Errorf("sent %q\nwant %q", got, want)
	}
	holders := f.sentMatching("FROM sys.dm_tran_locks l")
	if len(holders) == 0 || !slices.Contains(holders[0].args, any("dbo.t")) || !strings.Contains(holders[0].sql, "OBJECT_ID(@p2)") {
		t.Errorf("the lock holders of dbo.t were not looked up before trying: %+v", holders)
	}
	if ins := f.sentMatching("INSERT INTO hotswap.schema_history"); ins[0].args[6] != int64(7) {
		t.Errorf("history row written with token %v, want 7", ins[0].args[6])
	}
}

// TestLockTimeoutUntilDeadline gives up at the deadline with error 1222 in
// the outcome, not an error.
func TestLockTimeoutUntilDeadline(t *testing.T) {
	f := server(3, 0, false)
	f.onFunc("ALTER TABLE dbo.t", func(int, []any) ([][]any, error) { return nil, lockTimeout })
	req := request("ALTER TABLE dbo.t ADD c int NULL")
	req.Deadline = time.Now().Add(300 * time.Millisecond)
	out, err := f.conn(t).ExecuteStep(t.Context(), req, nil)
	if err != nil || out.Error == nil || out.Error.SQLState != "1222" || !strings.Contains(out.Error.Message, "gave up at the deadline") {
		t.Fatalf("ExecuteStep = %+v, %v; want a lock timeout in the outcome", out.Error, err)
	}
	if n := len(f.sentMatching("INSERT INTO hotswap.schema_history")); n != 0 {
		t.Errorf("history written %d times for a step that failed", n)
	}
}

func TestRedeliveryRunsNothing(t *testing.T) {
	f := server(3, 7, true)
	out, err := f.conn(t).ExecuteStep(t.Context(), request("ALTER TABLE dbo.t ADD c int NULL"), nil)
	if err != nil || !out.AlreadyApplied {
		t.Fatalf("ExecuteStep = %+v, %v; want AlreadyApplied", out, err)
	}
	if n := len(f.sentMatching("ALTER TABLE dbo.t")); n != 0 {
		t.Errorf("the script ran %d times on a re-delivery", n)
	}
}

func TestStaleTokenRefused(t *testing.T) {
	f := server(3, 9, false)
	_, err := f.conn(t).ExecuteStep(t.Context(), request("ALTER TABLE dbo.t ADD c int NULL"), nil)
	if !errors.Is(err, dialect.ErrStaleToken) {
		t.Fatalf("ExecuteStep = %v, want ErrStaleToken", err)
	}
	if n := len(f.sentMatching("ALTER TABLE dbo.t")); n != 0 {
		t.Errorf("the script ran with a stale token")
	}
}

// TestStepwiseResumes: ALTER DATABASE cannot run in a transaction, so the
// script runs batch by batch; an earlier delivery completed batch 1, so
// only batch 2 runs, in a transaction with its progress row.
func TestStepwiseResumes(t *testing.T) {
	f := server(3, 0, false)
	f.on("SELECT statement_index FROM hotswap.step_progress", []any{int64(0)})
	script := "ALTER DATABASE CURRENT SET ALLOW_SNAPSHOT_ISOLATION ON\nGO\nALTER TABLE dbo.t ADD c int NULL\nGO\n"
	out, err := f.conn(t).ExecuteStep(t.Context(), request(script), nil)
	if err != nil || out.Error != nil {
		t.Fatalf("ExecuteStep = %+v, %v", out.Error, err)
	}
	if n := len(f.sentMatching("ALTER DATABASE")); n != 0 {
		t.Errorf("the completed batch ran again")
	}
	got := f.sequence("BEGIN TRANSACTION", "ALTER TABLE dbo.t", "INSERT INTO hotswap.step_progress", "COMMIT", "INSERT INTO hotswap.schema_history")
	want := []string{"BEGIN TRANSACTION", "ALTER TABLE dbo.t", "INSERT INTO hotswap.step_progress", "COMMIT", "INSERT INTO hotswap.schema_history"}
	if !slices.Equal(got, want) || out.Transactional {
		t.Errorf("sent %q (transactional %v)\nwant %q, not transactional", got, out.Transactional, want)
	}
}

// TestNonTransactionalBatchRecordsIntent: a batch that cannot be in a
// transaction has its intent recorded before it runs and its progress
// after.
func TestNonTransactionalBatchRecordsIntent(t *testing.T) {
	f := server(3, 0, false)
	script := "CREATE FULLTEXT INDEX ON dbo.docs (body) KEY INDEX pk_docs"
	if _, err := f.conn(t).ExecuteStep(t.Context(), request(script), nil); err != nil {
		t.Fatal(err)
	}
	got := f.sequence("INSERT INTO hotswap.step_intent", "CREATE FULLTEXT INDEX", "INSERT INTO hotswap.step_progress", "INSERT INTO hotswap.schema_history")
	want := []string{"INSERT INTO hotswap.step_intent", "CREATE FULLTEXT INDEX", "INSERT INTO hotswap.step_progress", "INSERT INTO hotswap.schema_history"}
	if !slices.Equal(got, want) {
		t.Errorf("sent %q\nwant %q", got, want)
	}
	if n := len(f.sentMatching("BEGIN TRANSACTION")); n != 0 {
		t.Errorf("a full-text index was wrapped in a transaction")
	}
}

func TestOnlineIndexByEdition(t *testing.T) {
	script := "CREATE INDEX ix_t_a ON dbo.t (a) INCLUDE (b) ON [PRIMARY]"
	t.Run("Enterprise adds ONLINE = ON", func(t *testing.T) {
		f := server(3, 0, false)
		if _, err := f.conn(t).ExecuteStep(t.Context(), request(script), nil); err != nil {
			t.Fatal(err)
		}
		sent := f.sentMatching("CREATE INDEX")
		if len(sent) != 1 || !strings.Contains(sent[0].sql, "INCLUDE (b) WITH (ONLINE = ON) ON [PRIMARY]") {
			t.Errorf("sent %+v, want the index built with ONLINE = ON before the filegroup", sent)
		}
	})
	t.Run("Standard refuses", func(t *testing.T) {
		f := server(2, 0, false)
		out, err := f.conn(t).ExecuteStep(t.Context(), request(script), nil)
		if err != nil || out.Error == nil || !strings.Contains(out.Error.Message, AllowOfflineDirective) {
			t.Fatalf("ExecuteStep = %+v, %v; want a refusal naming the directive", out.Error, err)
		}
		if n := len(f.sentMatching("CREATE INDEX")); n != 0 {
			t.Errorf("the offline build ran")
		}
	})
	t.Run("Standard with the directive", func(t *testing.T) {
		f := server(2, 0, false)
		out, err := f.conn(t).ExecuteStep(t.Context(), request(AllowOfflineDirective+"\n"+script), nil)
		if err != nil || out.Error != nil {
			t.Fatalf("ExecuteStep = %+v, %v", out.Error, err)
		}
		if sent := f.sentMatching("CREATE INDEX"); len(sent) != 1 || strings.Contains(sent[0].sql, "ONLINE") {
			t.Errorf("sent %+v, want the index as written", sent)
		}
	})
}

func TestDryRunRollsBack(t *testing.T) {
	f := server(3, 0, false)
	req := request("ALTER TABLE dbo.t ADD c int NULL\nGO\nALTER DATABASE CURRENT SET RECOVERY FULL")
	req.DryRun = true
	out, err := f.conn(t).ExecuteStep(t.Context(), req, nil)
	if err != nil || out.Error != nil {
		t.Fatalf("ExecuteStep = %+v, %v", out.Error, err)
	}
	if n := len(f.sentMatching("ALTER DATABASE")); n != 0 {
		t.Errorf("a dry run ran ALTER DATABASE")
	}
	got := f.sequence("BEGIN TRANSACTION", "ALTER TABLE dbo.t", "ROLLBACK", "COMMIT", "INSERT INTO")
	if want := []string{"BEGIN TRANSACTION", "ALTER TABLE dbo.t", "ROLLBACK"}; !slices.Equal(got, want) {
		t.Errorf("sent %q, want %q", got, want)
	}
}

func TestScriptErrorIsTheOutcome(t *testing.T) {
	f := server(3, 0, false)
	f.onFunc("ALTER TABLE dbo.t", func(int, []any) ([][]any, error) {
		return nil, mssql.Error{Number: 4902, Message: "Cannot find the object \"dbo.t\" because it does not exist (password s3cret)."}
	})
	out, err := f.conn(t).ExecuteStep(t.Context(), request("ALTER TABLE dbo.t ADD c int NULL"), nil)
	if err != nil || out.Error == nil || out.Error.SQLState != "4902" {
		t.Fatalf("ExecuteStep = %+v, %v; want error 4902 in the outcome", out.Error, err)
	}
	if strings.Contains(out.Error.Message, "s3cret") {
		t.Errorf("the password reached the outcome: %q", out.Error.Message)
	}
}

func TestOpenNeverShowsThePassword(t *testing.T) {
	_, err := Open(t.Context(), "sqlserver://sa:Pa55word@db:notaport?database=app")
	if err == nil || !errors.Is(err, dialect.ErrInvalidDSN) || strings.Contains(err.Error(), "Pa55word") {
		t.Fatalf("Open = %v, want ErrInvalidDSN without the password", err)
	}
	c, err := Open(t.Context(), "sqlserver://sa:Pa55word@db:1433?database=app")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Target() != "db:1433/app" {
		t.Errorf("Target = %q", c.Target())
	}
}

// TestStepwiseResumesWithinABatch: the statements of one batch stand
// alone, so a re-delivery skips those an earlier delivery completed and
// runs the rest, statement by statement (the conformance suite's case).
func TestStepwiseResumesWithinABatch(t *testing.T) {
	f := server(3, 0, false)
	f.on("SELECT statement_index FROM hotswap.step_progress", []any{int64(0)}, []any{int64(1)})
	script := "CREATE TABLE early (id int);\nALTER DATABASE CURRENT SET RECOVERY FULL;\nALTER TABLE later ADD c1 int"
	var skipped int
	out, err := f.conn(t).ExecuteStep(t.Context(), request(script), func(ev dialect.StepEvent) {
		if strings.Contains(ev.Message, "already done by an earlier delivery") {
			skipped++
		}
	})
	if err != nil || out.Error != nil {
		t.Fatalf("ExecuteStep = %+v, %v", out.Error, err)
	}
	if skipped != 2 || len(out.Statements) != 1 || out.Statements[0].Index != 2 || out.Transactional {
		t.Errorf("skipped %d, statements %+v; want 2 skipped and statement 3 (index 2) run stepwise", skipped, out.Statements)
	}
	if n := len(f.sentMatching("CREATE TABLE early")) + len(f.sentMatching("ALTER DATABASE")); n != 0 {
		t.Errorf("%d completed statement(s) ran again", n)
	}
	if sent := f.sentMatching("ALTER TABLE later"); len(sent) != 1 || sent[0].sql != "ALTER TABLE later ADD c1 int" {
		t.Errorf("sent %+v, want the third statement alone", sent)
	}
}

// TestWaitsOutALongHolderBeforeTrying: session 61 has held a lock on the
// table for 30 s; the DDL is not sent until its transaction has ended.
func TestWaitsOutALongHolderBeforeTrying(t *testing.T) {
	f := server(3, 0, false)
	began := time.Now().Add(-30 * time.Second).Truncate(time.Millisecond)
	f.on("FROM sys.dm_tran_locks l", []any{int64(61), began, int64(30_000), "IX lock on dbo.t"})
	f.onFunc("WHERE st.session_id = @p1 AND (@p2 IS NULL OR at.transaction_begin_time = @p2)", func(n int, args []any) ([][]any, error) {
		if args[0] != int64(61) {
			return nil, errors.New("asked about another session")
		}
		return [][]any{{int64(max(0, 2-n))}}, nil // open for two looks, then gone
	})
	var events []string
	out, err := f.conn(t).ExecuteStep(t.Context(), request("ALTER TABLE dbo.t ADD c int NULL"), func(ev dialect.StepEvent) {
		events = append(events, ev.Message)
	})
	if err != nil || out.Error != nil {
		t.Fatalf("ExecuteStep = %+v, %v", out.Error, err)
	}
	got := f.sequence("WHERE st.session_id = @p1", "ALTER TABLE dbo.t")
	if want := []string{"WHERE st.session_id = @p1", "WHERE st.session_id = @p1", "WHERE st.session_id = @p1", "ALTER TABLE dbo.t"}; !slices.Equal(got, want) {
		t.Errorf("sent %q, want the holder looked at until it ended, then the DDL", got)
	}
	joined := strings.Join(events, "\n")
	if !strings.Contains(joined, "waiting for session 61") || !strings.Contains(joined, "before trying") {
		t.Errorf("events = %s", joined)
	}
}
