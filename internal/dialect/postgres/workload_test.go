package postgres_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/postgres"
	"github.com/hotswap-db/hotswap/internal/replay"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// TestWorkload runs the replay against a real PostgreSQL that logs every
// statement, with pg_stat_statements.
func TestWorkload(t *testing.T) {
	pg := testbed.StartPostgres(t, testbed.PostgresOptions{Settings: map[string]string{"log_min_duration_statement": "0"}})
	ctx := t.Context()
	pool, err := pgxpool.New(ctx, pg.DSN(testbed.PostgresDatabase))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	mustExec(t, pool,
		"CREATE TABLE items (k int NOT NULL, v int NOT NULL)",
		"INSERT INTO items SELECT i % 50000, i FROM generate_series(1, 200000) AS i",
		"CREATE INDEX items_k ON items (k)",
		"VACUUM ANALYZE items",
	)
	t.Run("IndexDropSlowsReplay", func(t *testing.T) { testIndexDrop(t, pool) })
	t.Run("NeverWrites", func(t *testing.T) { testNeverWrites(t, pool) })
	t.Run("Capture", func(t *testing.T) { testCapture(t, pool) })
	t.Run("CaptureLog", func(t *testing.T) { testCaptureLog(t, pool, pg.LogPath()) })
	t.Run("Capabilities", func(t *testing.T) { testCapabilities(t, pg, pool) })
}

// testCapabilities goes through the capabilities a Conn offers the agent.
func testCapabilities(t *testing.T, pg *testbed.Postgres, pool *pgxpool.Pool) {
	var conn dialect.Conn = open(t, pg.DSN(testbed.PostgresDatabase))
	capturer, okC := conn.(dialect.WorkloadCapturer)
	replayer, okR := conn.(dialect.WorkloadReplayer)
	if !okC || !okR {
		t.Fatalf("the PostgreSQL Conn is a WorkloadCapturer: %v, a WorkloadReplayer: %v; want both", okC, okR)
	}
	since := time.Now().Truncate(time.Millisecond)
	mustExec(t, pool, "SELECT v FROM items WHERE k = 5151")
	fromLog, err := capturer.CaptureWorkload(t.Context(), dialect.CaptureRequest{Limit: 10, StatementLog: pg.LogPath(), Since: since})
	if err != nil || fromLog.Source != "the statement log" || !slices.Contains(fromLog.Statements, "SELECT v FROM items WHERE k = 5151") {
		t.Errorf("capture with a statement log = %+v, %v; want the logged statement, from the statement log", fromLog, err)
	}
	stats, err := capturer.CaptureWorkload(t.Context(), dialect.CaptureRequest{Limit: 10})
	if err != nil || stats.Source != "pg_stat_statements" || len(stats.Statements) == 0 {
		t.Errorf("capture without a log = %+v, %v; want statements from pg_stat_statements", stats, err)
	}
	res, err := replayer.ReplayWorkload(t.Context(), fromLog.Workload, replay.Options{Iterations: 3})
	if err != nil || res.Runs != 3*len(fromLog.Statements) || res.Errors != 0 {
		t.Errorf("ReplayWorkload = %+v, %v; want %d runs, no error", res, err, 3*len(fromLog.Statements))
	}
}

// mustExec runs statements on pool, failing the test on error.
func mustExec(t *testing.T, pool *pgxpool.Pool, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := pool.Exec(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func testIndexDrop(t *testing.T, pool *pgxpool.Pool) {
	var file strings.Builder
	file.WriteString("-- point lookups by k\n")
	for i := range 20 {
		fmt.Fprintf(&file, "SELECT v FROM items WHERE k = %d;\n", i*997)
	}
	w, err := replay.ParseFile(strings.NewReader(file.String()), replay.PostgreSQL)
	if err != nil {
		t.Fatal(err)
	}
	opts := replay.Options{Iterations: 2, Concurrency: 2, Timeout: 10 * time.Second}
	before, err := replay.Run(t.Context(), postgres.ReplaySession{Pool: pool}, w, opts)
	if err != nil {
		t.Fatal(err)
	}
	// What makes the lookups fast is the index, not the machine's load:
	// check the plan rather than a latency bound.
	if before.Runs != 40 || before.Errors != 0 || !usesIndex(t, pool, "items_k") {
		t.Fatalf("before: %+v, want 40 runs, no error, the lookups on items_k", before)
	}
	mustExec(t, pool, "DROP INDEX items_k")
	after, err := replay.Run(t.Context(), postgres.ReplaySession{Pool: pool}, w, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("with index %+v; without %+v", before, after)
	if after.P95Ms <= before.P95Ms {
		t.Errorf("p95 %.2f ms without the index, %.2f ms with it: want it to grow", after.P95Ms, before.P95Ms)
	}
	ok, reason := replay.Compare(before, after, 1.5)
	if ok || !strings.Contains(reason, "p95") || !strings.Contains(reason, "over the 1.5x limit") {
		t.Errorf("Compare = %v, %q; want not ok with a reason naming p95", ok, reason)
	}
	if ok, reason := replay.Compare(before, before, 1.5); !ok {
		t.Errorf("Compare of a replay with itself = not ok: %s", reason)
	}
	mustExec(t, pool, "CREATE INDEX items_k ON items (k)")
}

// usesIndex reports whether a lookup of the replayed workload is planned
// on index.
func usesIndex(t *testing.T, pool *pgxpool.Pool, index string) bool {
	t.Helper()
	rows, err := pool.Query(t.Context(), "EXPLAIN SELECT v FROM items WHERE k = 997")
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	return strings.Contains(strings.Join(lines, "\n"), index)
}

func testNeverWrites(t *testing.T, pool *pgxpool.Pool) {
	mustExec(t, pool,
		"CREATE TABLE counters (n int NOT NULL)",
		"INSERT INTO counters VALUES (0)",
		"CREATE FUNCTION bump() RETURNS int LANGUAGE sql AS 'UPDATE counters SET n = n + 1 RETURNING n'",
	)
	f, err := replay.ParseFile(strings.NewReader("UPDATE counters SET n = 42; SELECT n FROM counters;"), replay.PostgreSQL)
	if err != nil {
		t.Fatal(err)
	}
	if f.Skipped != 1 || len(f.Statements) != 1 {
		t.Errorf("ParseFile kept %q, skipped %d; want the UPDATE refused", f.Statements, f.Skipped)
	}
	w := replay.Workload{Statements: []string{
		"UPDATE counters SET n = 42", // refused before it is sent
		"SELECT bump()",              // writes inside a function: the READ ONLY transaction stops it
		"SELECT 1 / (current_setting('application_name') = 'hotswap-agent replay')::int",
		"SELECT 1 / (current_setting('transaction_read_only') = 'on')::int",
	}}
	res, err := replay.Run(t.Context(), postgres.ReplaySession{Pool: pool}, w, replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 1 || res.Runs != 2 || res.Errors != 1 {
		t.Fatalf("Run = %+v; want 1 skipped, 2 runs, 1 error", res)
	}
	if f := res.Failures; len(f) != 1 || f[0].Statement != "SELECT bump()" || !strings.Contains(f[0].Error, "read-only transaction") {
		t.Errorf("failures = %+v; want SELECT bump() refused in a read-only transaction", f)
	}
	var n int
	if err := pool.QueryRow(t.Context(), "SELECT n FROM counters").Scan(&n); err != nil || n != 0 {
		t.Errorf("counters.n = %d (%v) after the replay, want 0: the replay wrote", n, err)
	}
}

func testCapture(t *testing.T, pool *pgxpool.Pool) {
	mustExec(t, pool, "SELECT pg_stat_statements_reset()")
	for range 5 {
		mustExec(t, pool, "SELECT count(*) FROM items")
	}
	for range 3 {
		mustExec(t, pool, "SELECT v FROM items WHERE k = 7", "SELECT max(v) FROM items",
			"SELECT relname FROM pg_class WHERE oid = 1259", "SELECT 1")
	}
	mustExec(t, pool, "UPDATE items SET v = v WHERE k = -1", "SELECT sum(v) FROM items")
	if _, err := replay.Run(t.Context(), postgres.ReplaySession{Pool: pool}, replay.Workload{Statements: []string{"SELECT min(v) FROM items"}}, replay.Options{Iterations: 10}); err != nil {
		t.Fatal(err)
	}
	w, err := postgres.Capture(t.Context(), pool, 10)
	if err != nil {
		t.Fatal(err)
	}
	// pg_stat_statements keeps "k = $1": the value comes from the table.
	var bound []string
	rest := slices.DeleteFunc(slices.Clone(w.Statements), func(s string) bool {
		if strings.HasPrefix(s, "SELECT v FROM items WHERE k = '") {
			bound = append(bound, s)
			return true
		}
		return false
	})
	want := []string{"SELECT count(*) FROM items", "SELECT max(v) FROM items", "SELECT sum(v) FROM items"}
	if !slices.Equal(rest, want) || len(bound) != 1 || w.Sampled != 1 {
		t.Errorf("Capture = %q (sampled %d, skipped %d), want %q and the point query with a sampled value", w.Statements, w.Sampled, w.Skipped, want)
	}
	if share, ok := w.Share(); !ok || share <= 0 || share >= 1 {
		t.Errorf("share of the calls covered = %v, %v; want a part (the catalog and write statements are not kept)", share, ok)
	}
	top, err := postgres.Capture(t.Context(), pool, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(top.Statements, want[:1]) {
		t.Errorf("Capture(limit 1) = %q, want the most called %q", top.Statements, want[:1])
	}
	if _, err := postgres.Capture(t.Context(), pool, 0); err == nil {
		t.Error("Capture with limit 0 did not fail")
	}
	// Last: a replay counts in the statement's own statistics.
	if len(bound) == 1 {
		res, err := replay.Run(t.Context(), postgres.ReplaySession{Pool: pool}, replay.Workload{Statements: bound}, replay.Options{Iterations: 2})
		if err != nil || res.Errors != 0 {
			t.Errorf("replay of the bound statement %q = %+v, %v", bound[0], res, err)
		}
	}
}

func testCaptureLog(t *testing.T, pool *pgxpool.Pool, logPath string) {
	since := time.Now().Truncate(time.Millisecond)
	mustExec(t, pool,
		"SELECT v FROM items WHERE k = 4242",
		"SELECT v\nFROM items\nWHERE k = 4244",
		"UPDATE items SET v = v WHERE k = -2",
	)
	if _, err := pool.Exec(t.Context(), "SELECT v FROM items WHERE k = $1 AND 'x' <> $2", 4243, "o'brien"); err != nil {
		t.Fatal(err)
	}
	if _, err := replay.Run(t.Context(), postgres.ReplaySession{Pool: pool}, replay.Workload{Statements: []string{"SELECT v FROM items WHERE k = 4245"}}, replay.Options{}); err != nil {
		t.Fatal(err)
	}
	w, err := replay.CaptureLog(logPath, since, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"SELECT v FROM items WHERE k = 4242",
		"SELECT v\nFROM items\nWHERE k = 4244",
		"SELECT v FROM items WHERE k = '4243' AND 'x' <> 'o''brien'",
	}
	if !slices.Equal(w.Statements, want) {
		t.Fatalf("CaptureLog = %q (skipped %d), want %q", w.Statements, w.Skipped, want)
	}
	res, err := replay.Run(t.Context(), postgres.ReplaySession{Pool: pool}, w, replay.Options{})
	if err != nil || res.Runs != 3 || res.Errors != 0 {
		t.Errorf("replay of the captured log: %+v, %v; want 3 runs, no error", res, err)
	}
	later, err := replay.CaptureLog(logPath, time.Now().Add(time.Hour), 100)
	if err != nil || len(later.Statements) != 0 {
		t.Errorf("CaptureLog since an hour ahead = %q, %v; want nothing", later.Statements, err)
	}
}
