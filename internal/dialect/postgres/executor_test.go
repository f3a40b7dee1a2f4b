package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/postgres"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

const (
	testLockTimeout = 200 * time.Millisecond
	// selectSlack is what a SELECT may take beyond one lock timeout while
	// it queues behind the DDL: scheduling under -race and parallel tests.
	selectSlack = 250 * time.Millisecond
	// commitToDone bounds the time from the blocker's COMMIT to the step's
	// end: loose, so that a loaded machine does not fail it, yet far below
	// what a retry loop that re-queued on a backoff would take. The figure
	// itself is measured by bench/lockqueue.
	commitToDone = 5 * time.Second
	pollTimeout  = 10 * time.Second
)

// TestExecutor runs the executor against one real PostgreSQL server, each
// case in its own database so that cases (and CREATE INDEX CONCURRENTLY,
// which waits for every transaction of its database) do not interfere.
func TestExecutor(t *testing.T) {
	p := testbed.StartPostgres(t, testbed.PostgresOptions{Settings: map[string]string{"max_connections": "300"}})
	cases := []struct {
		name string
		run  func(t *testing.T, db *testDB)
	}{
		{"TransactionalApplyAndRedelivery", testTransactionalApply},
		{"FailingScriptAppliesNothing", testFailingScript},
		{"ConcurrentIndexProgressAndResume", testConcurrentIndex},
		{"InvalidIndexCleanup", testInvalidIndexCleanup},
		{"ExplicitTransactionBlock", testExplicitBlock},
		{"TransactionalDetection", testDetection},
		{"LockTimeoutRetry", testLockTimeoutRetry},
		{"DeadlineGivesUp", testDeadline},
		{"StaleFencingToken", testStaleToken},
		{"DryRun", testDryRun},
		{"Cancellation", testCancellation},
		{"PartialFailureRollback", testPartialRollback},
		{"SchemaDrift", testSchemaDrift},
		{"StepTail", testStepTail},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newTestDB(t, p))
		})
	}
}

func testTransactionalApply(t *testing.T, db *testDB) {
	db.exec(t, "CREATE TABLE a (id int)")
	ev := &eventLog{}
	req := db.step("s1", "ALTER TABLE a ADD COLUMN c1 int;\nALTER TABLE a ADD COLUMN c2 text;")
	out := db.mustRun(t, req, ev)
	if out.Error != nil || !out.Transactional || out.AlreadyApplied || len(out.Statements) != 2 {
		t.Fatalf("outcome = %+v, want 2 statements applied in one transaction", out)
	}
	if got := out.Statements[1]; got.Index != 1 || got.Attempts != 1 || !strings.Contains(got.SQL, "c2") {
		t.Errorf("statement result = %+v", got)
	}
	if !db.hasColumn(t, "a", "c1") || !db.hasColumn(t, "a", "c2") {
		t.Fatalf("columns c1, c2 missing after the step")
	}
	if got := ev.doneCount(); got != 2 {
		t.Errorf("got %d Done events, want 2", got)
	}
	hist := db.history(t)
	want := dialect.HistoryRow{ExecutionID: "exec-1", StepID: "s1", MigrationID: "mig-1", MigrationName: "add columns",
		Direction: domain.Forward, Checksum: req.Checksum, FencingToken: 10, AppliedBy: "tester"}
	if len(hist) != 1 || !sameHistory(hist[0], want) || time.Since(hist[0].AppliedAt) > time.Minute || hist[0].DurationMs <= 0 {
		t.Fatalf("history = %+v, want one row like %+v", hist, want)
	}

	// Re-delivery: ADD COLUMN without IF NOT EXISTS would fail if run again.
	again := db.mustRun(t, req, ev)
	if !again.AlreadyApplied || again.Error != nil || len(again.Statements) != 0 {
		t.Fatalf("re-delivery outcome = %+v, want AlreadyApplied and nothing run", again)
	}
	if got := len(db.history(t)); got != 1 {
		t.Errorf("history has %d rows after re-delivery, want 1", got)
	}
	ev.assertNoSecret(t, db.password)
}

func testFailingScript(t *testing.T, db *testDB) {
	db.exec(t, "CREATE TABLE b (id int)")
	out := db.mustRun(t, db.step("s1", "ALTER TABLE b ADD COLUMN c1 int; ALTER TABLE missing_table ADD COLUMN x int"), nil)
	if out.Error == nil || out.Error.SQLState != "42P01" || !strings.Contains(out.Error.Statement, "missing_table") {
		t.Fatalf("outcome error = %+v, want 42P01 on the second statement", out.Error)
	}
	if db.hasColumn(t, "b", "c1") {
		t.Errorf("column c1 applied although the script failed")
	}
	if got := len(db.history(t)); got != 0 {
		t.Errorf("history has %d rows after a failed step, want 0", got)
	}
}

func testConcurrentIndex(t *testing.T, db *testDB) {
	db.exec(t, "CREATE TABLE c (id int, v int)", "INSERT INTO c SELECT g, g % 10 FROM generate_series(1, 1000) g")
	ev := &eventLog{}
	out := db.mustRun(t, db.step("s1", "ALTER TABLE c ADD COLUMN w int; CREATE INDEX CONCURRENTLY c_v_idx ON c (v)"), ev)
	if out.Error != nil || out.Transactional || len(out.Statements) != 2 {
		t.Fatalf("outcome = %+v, want 2 statements run one by one", out)
	}
	if !db.indexValid(t, "c_v_idx") || !db.hasColumn(t, "c", "w") {
		t.Fatalf("index c_v_idx or column w missing")
	}
	if got := db.progress(t, "s1"); fmt.Sprint(got) != "[0 1]" {
		t.Errorf("step_progress = %v, want [0 1]", got)
	}
	if got := ev.doneCount(); got != 2 {
		t.Errorf("got %d Done events, want 2", got)
	}
	if len(db.history(t)) != 1 {
		t.Errorf("no history row for the non-transactional step")
	}

	// A delivery that crashed after statement 0: resuming skips it.
	db.exec(t, "INSERT INTO hotswap.step_progress (execution_id, step_id, statement_index) VALUES ('exec-1', 's2', 0)")
	resumed := db.mustRun(t, db.step("s2", "ALTER TABLE c ADD COLUMN z int; CREATE INDEX CONCURRENTLY c_w_idx ON c (w)"), ev)
	if resumed.Error != nil || len(resumed.Statements) != 1 || resumed.Statements[0].Index != 1 {
		t.Fatalf("resumed outcome = %+v, want only statement 1 run", resumed)
	}
	if db.hasColumn(t, "c", "z") || !db.indexValid(t, "c_w_idx") {
		t.Errorf("resume ran statement 0 again or did not build c_w_idx")
	}
	ev.want(t, "already done by an earlier delivery")
}

func testInvalidIndexCleanup(t *testing.T, db *testDB) {
	db.exec(t, "CREATE TABLE d (v int)", "INSERT INTO d VALUES (1), (1), (2)")
	const script = "CREATE UNIQUE INDEX CONCURRENTLY d_v_key ON d (v)"

	// The step fails on duplicates: the invalid index it leaves is dropped.
	ev := &eventLog{}
	out := db.mustRun(t, db.step("s1", script), ev)
	if out.Error == nil || out.Error.SQLState != "23505" {
		t.Fatalf("outcome error = %+v, want 23505 unique_violation", out.Error)
	}
	if db.indexExists(t, "d_v_key") {
		t.Errorf("invalid index d_v_key left after the failed step")
	}
	ev.want(t, "dropped invalid index")

	// A crash leaves one behind (made here by hand); the next run drops it
	// before building the index again.
	if _, err := db.conn(t).Exec(t.Context(), script); err == nil {
		t.Fatalf("CREATE UNIQUE INDEX on duplicates succeeded")
	}
	if !db.indexExists(t, "d_v_key") || db.indexValid(t, "d_v_key") {
		t.Fatalf("no invalid index d_v_key to clean")
	}
	db.exec(t, "DELETE FROM d WHERE ctid = (SELECT max(ctid) FROM d WHERE v = 1)")
	ev = &eventLog{}
	out = db.mustRun(t, db.step("s1", script), ev)
	if out.Error != nil || !db.indexValid(t, "d_v_key") {
		t.Fatalf("retry outcome = %+v, index valid = %v", out, db.indexValid(t, "d_v_key"))
	}
	ev.want(t, "dropping invalid index")
}

// testDetection checks the executor's transactional decision, made on the
// parse tree, against PostgreSQL's own: a statement the executor runs one
// by one is refused in a transaction block (25001), and one it runs in a
// transaction runs in the dry run's.
func testDetection(t *testing.T, db *testDB) {
	db.exec(t, "CREATE TABLE dt (c int)", "CREATE INDEX dt_i ON dt (c)", "CREATE TYPE dt_e AS ENUM ('a')",
		"CREATE TABLE dp (id int) PARTITION BY RANGE (id)", "CREATE TABLE dp1 PARTITION OF dp FOR VALUES FROM (0) TO (10)")
	cases := []struct {
		script  string
		wantTx  bool
		wantWhy string
	}{
		{"ALTER TABLE dt ADD d int; CREATE INDEX dt_j ON dt (c)", true, ""},
		{"-- CONCURRENTLY\nCREATE INDEX dt_k ON dt (c); SELECT 'CREATE INDEX CONCURRENTLY'", true, ""},
		{"CREATE INDEX CONCURRENTLY dt_l ON dt (c)", false, "CREATE INDEX CONCURRENTLY (statement 1) cannot run"},
		{"ALTER TABLE dt ADD f int; DROP INDEX CONCURRENTLY IF EXISTS dt_i", false, "DROP INDEX CONCURRENTLY (statement 2)"},
		{"REINDEX (CONCURRENTLY) TABLE dt", false, "REINDEX CONCURRENTLY"},
		{"REINDEX TABLE CONCURRENTLY dt", false, "REINDEX CONCURRENTLY"},
		{"REINDEX TABLE dt", true, ""},
		{"VACUUM dt", false, "VACUUM"},
		{"ANALYZE dt", true, ""},
		{"CREATE DATABASE dt_never", false, "CREATE DATABASE"},
		{"DROP DATABASE IF EXISTS dt_never", false, "DROP DATABASE"},
		{"ALTER SYSTEM SET work_mem = '8MB'", false, "ALTER SYSTEM"},
		{"CLUSTER", false, "CLUSTER without a table"},
		{"CLUSTER dt USING dt_i", true, ""},
		{"ALTER TABLE dp DETACH PARTITION dp1 CONCURRENTLY", false, "DETACH PARTITION CONCURRENTLY"},
		{"ALTER TYPE dt_e ADD VALUE 'b'", true, ""},
		{"DO $$ BEGIN PERFORM 1; END $$", true, ""},
		{"BEGIN; ALTER TABLE dt ADD e int; COMMIT", false, "controls its own transactions"},
	}
	conn := db.conn(t)
	for i, tc := range cases {
		if !strings.HasPrefix(tc.script, "BEGIN") {
			if refused := refusedInTransaction(t, conn, tc.script); refused == tc.wantTx {
				t.Errorf("%q: PostgreSQL refuses it in a transaction block: %v; the test expects transactional %v",
					tc.script, refused, tc.wantTx)
			}
		}
		ev := &eventLog{}
		req := db.step(fmt.Sprintf("detect-%d", i), tc.script)
		req.DryRun = true
		out := db.mustRun(t, req, ev)
		if out.Transactional != tc.wantTx || out.Error != nil {
			t.Errorf("%q: Transactional = %v, error %+v; want %v, no error", tc.script, out.Transactional, out.Error, tc.wantTx)
		}
		if !tc.wantTx {
			ev.want(t, tc.wantWhy)
		}
	}
}

// refusedInTransaction runs script in a transaction block on conn, rolls it
// back, and reports whether PostgreSQL refused it there (SQLSTATE 25001).
func refusedInTransaction(t *testing.T, conn *pgx.Conn, script string) bool {
	t.Helper()
	ctx := t.Context()
	if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
		t.Fatalf("BEGIN: %v", err)
	}
	_, err := conn.Exec(ctx, script)
	if _, rerr := conn.Exec(ctx, "ROLLBACK"); rerr != nil {
		t.Fatalf("ROLLBACK: %v", rerr)
	}
	var pgErr *pgconn.PgError
	if err != nil && (!errors.As(err, &pgErr) || pgErr.Code != "25001") {
		t.Errorf("%q in a transaction block: %v", script, err)
	}
	return err != nil
}

func testExplicitBlock(t *testing.T, db *testDB) {
	db.exec(t, "CREATE TABLE g (id int)")
	ev := &eventLog{}
	out := db.mustRun(t, db.step("s1", "BEGIN; ALTER TABLE g ADD COLUMN a int; COMMIT; ALTER TABLE g ADD COLUMN b int"), ev)
	if out.Error != nil || out.Transactional || len(out.Statements) != 4 {
		t.Fatalf("outcome = %+v, want 4 statements run as written", out)
	}
	if !db.hasColumn(t, "g", "a") || !db.hasColumn(t, "g", "b") {
		t.Errorf("columns a, b missing")
	}
	ev.want(t, "controls its own transactions")
	if got := db.progress(t, "s1"); fmt.Sprint(got) != "[0 1 2 3]" {
		t.Errorf("step_progress = %v, want [0 1 2 3]", got)
	}
}

// lockCase is a blocker the DDL meets.
type lockCase struct {
	name string
	// blocker opens the blocking transaction on conn.
	blocker string
	// openFor is how long the blocker is open before the step starts.
	openFor time.Duration
	// holdFor is how long the blocker stays open after the step starts.
	holdFor time.Duration
	// busy keeps the blocker running a query (not idle in its transaction)
	// while it holds on, so only a lock timeout can reveal it.
	busy   bool
	script string
	// wantEvents are substrings the events must show.
	wantEvents []string
	// wantRetries bounds Retries: at least 1 when set, and at most 2,
	// since a retry waits for the blocker's end rather than re-queueing.
	wantRetries bool
	// fresh opens the blocker when the executor announces how it runs the
	// script, just before its pre-check, so the blocker is younger than a
	// lock timeout there and only the attempt meets it. Should the machine
	// stall the executor for a lock timeout after that, the pre-check sees
	// an old blocker and waits for it instead: the test then checks that
	// this is what happened (no attempt, no retry).
	fresh bool
}

// announcesScript reports whether e is the executor's first event, which
// says how it runs the script; the pre-check comes right after it.
func announcesScript(e dialect.StepEvent) bool {
	return strings.HasPrefix(e.Message, "running ") || strings.Contains(e.Message, "running the script statement by statement")
}

func testLockTimeoutRetry(t *testing.T, db *testDB) {
	cases := []lockCase{{
		name: "fresh busy blocker: lock timeouts and retries", blocker: "LOCK TABLE t1 IN ACCESS SHARE MODE",
		holdFor: 1200 * time.Millisecond, busy: true, script: "ALTER TABLE t1 ADD COLUMN c int", fresh: true,
		wantEvents: []string{"found the tables locked", "lock timeout on attempt 2", "as soon as the transaction of pid|waiting for pid"}, wantRetries: true,
	}, {
		name: "idle-in-transaction blocker: waited for before trying", blocker: "LOCK TABLE t5 IN ACCESS SHARE MODE",
		openFor: 100 * time.Millisecond, holdFor: time.Second, script: "ALTER TABLE t5 ADD COLUMN c int",
		wantEvents: []string{"waiting for pid", "holding AccessShareLock on t5 before trying"},
	}, {
		name: "long blocker: waited for before trying", blocker: "LOCK TABLE t2 IN ACCESS SHARE MODE",
		openFor: 3 * testLockTimeout, holdFor: time.Second, script: "ALTER TABLE t2 ADD COLUMN c int",
		wantEvents: []string{"waiting for pid", "holding AccessShareLock on t2 before trying"},
	}, {
		name: "writer blocks CREATE INDEX CONCURRENTLY", blocker: "INSERT INTO t3 VALUES (0)",
		holdFor: 1200 * time.Millisecond, script: "CREATE INDEX CONCURRENTLY t3_id ON t3 (id)", fresh: true,
		wantEvents: []string{"lock timeout on attempt 1", "dropping invalid index"}, wantRetries: true,
	}, {
		name:    "long snapshot holder delays CREATE INDEX CONCURRENTLY",
		blocker: "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM t4",
		openFor: 3 * testLockTimeout, holdFor: time.Second, script: "CREATE INDEX CONCURRENTLY t4_id ON t4 (id)",
		wantEvents: []string{"holding a snapshot that CREATE INDEX CONCURRENTLY would wait for before trying"},
	}}
	for _, lc := range cases {
		table := lockCaseTable(lc)
		db.exec(t, "CREATE TABLE "+table+" (id int)", "INSERT INTO "+table+" SELECT generate_series(1, 100)")
	}
	for _, lc := range cases {
		t.Run(lc.name, func(t *testing.T) { runLockCase(t, db, lc, lockCaseTable(lc)) })
	}
}

// lockCaseTable is the table a case's script names, after TABLE or ON.
func lockCaseTable(lc lockCase) string {
	f := strings.Fields(lc.script)
	for i, w := range f {
		if w == "TABLE" || w == "ON" {
			return f[i+1]
		}
	}
	return ""
}

// runLockCase runs one lockCase while a third session reads the table in
// a loop, and checks that the step succeeds soon after the blocker commits
// while no read waits more than about one lock timeout.
func runLockCase(t *testing.T, db *testDB, lc lockCase, table string) {
	blockerConn := db.conn(t)
	reads := startReader(t, db.conn(t), "SELECT count(*) FROM "+table)
	started := make(chan *blocker, 1)
	open := func() {
		b := startBlocker(t, blockerConn, lc.blocker)
		go b.commitAfter(lc.holdFor, lc.busy)
		started <- b
	}
	ev := &eventLog{}
	if lc.fresh {
		ev.onFirst = func(e dialect.StepEvent) {
			if announcesScript(e) {
				open()
			}
		}
	} else {
		open()
		time.Sleep(lc.openFor) // let the blocker's transaction age
	}

	req := db.step("lock-"+table, lc.script)
	req.LockTimeout = testLockTimeout
	out := db.mustRun(t, req, ev)
	done := time.Now()
	maxRead := reads.stop()
	var b *blocker
	select {
	case b = <-started:
	default:
		t.Fatalf("the blocker never started: no event announced the script; events: %+v", ev.snapshot())
	}
	commitAt := b.wait(t)

	if out.Error != nil {
		t.Fatalf("outcome error = %+v", out.Error)
	}
	checkLockPath(t, lc, out, ev)
	if lag := done.Sub(commitAt); lag > commitToDone {
		t.Errorf("step ended %v after the blocker's COMMIT, want < %v", lag, commitToDone)
	}
	if maxRead > testLockTimeout+selectSlack {
		t.Errorf("a concurrent SELECT waited %v, want < lock timeout %v + %v", maxRead, testLockTimeout, selectSlack)
	}
	t.Logf("retries %d, blocker COMMIT -> step done %v, longest concurrent SELECT %v",
		out.Retries, done.Sub(commitAt).Round(time.Millisecond), maxRead.Round(time.Millisecond))
}

// checkLockPath checks how the step met the blocker: by a lock timeout
// and a retry once the blocker ended, or, for a long blocker, by waiting
// for it before the first attempt.
func checkLockPath(t *testing.T, lc lockCase, out dialect.StepOutcome, ev *eventLog) {
	t.Helper()
	wantRetries, wantEvents := lc.wantRetries, lc.wantEvents
	if lc.fresh && ev.first("before trying", "lock timeout on attempt") == "before trying" {
		// The executor was held up past a lock timeout between its first
		// event and its pre-check: the blocker was old there, and waiting
		// for it is the right course.
		t.Logf("the pre-check saw the fresh blocker older than the lock timeout: it waited for it")
		wantRetries, wantEvents = false, []string{"waiting for pid", "before trying"}
	}
	if wantRetries && (out.Retries == 0 || out.Retries > 2) {
		t.Errorf("Retries = %d, want 1 or 2: a lock timeout, then a wait for the blocker's end", out.Retries)
	}
	if !wantRetries && out.Retries != 0 {
		t.Errorf("Retries = %d, want 0: the pre-check waits for a long blocker before trying", out.Retries)
	}
	for _, w := range wantEvents {
		ev.want(t, w)
	}
}

func testDeadline(t *testing.T, db *testDB) {
	db.exec(t, "CREATE TABLE h (id int)")
	startBlocker(t, db.conn(t), "LOCK TABLE h IN ACCESS SHARE MODE") // never ends
	req := db.step("s1", "ALTER TABLE h ADD COLUMN c int")
	req.LockTimeout = testLockTimeout
	req.Deadline = time.Now().Add(1200 * time.Millisecond)
	out := db.mustRun(t, req, nil)
	if out.Error == nil || out.Error.SQLState != "55P03" ||
		!strings.Contains(out.Error.Message, "lock timeout") || !strings.Contains(out.Error.Message, "deadline") {
		t.Fatalf("outcome error = %+v, want a lock timeout given up at the deadline", out.Error)
	}
	if over := time.Since(req.Deadline); over > time.Second {
		t.Errorf("step ended %v after its deadline", over)
	}
	if db.hasColumn(t, "h", "c") || len(db.history(t)) != 0 {
		t.Errorf("the step was applied although it gave up")
	}
}

func testStaleToken(t *testing.T, db *testDB) {
	db.exec(t, "CREATE TABLE k (id int)")
	db.mustRun(t, db.step("s1", "ALTER TABLE k ADD COLUMN a int"), nil)
	for _, script := range []string{"ALTER TABLE k ADD COLUMN b int", "CREATE INDEX CONCURRENTLY k_b ON k (id)"} {
		req := db.step("s2", script)
		req.FencingToken = 5
		_, err := db.c.ExecuteStep(t.Context(), req, nil)
		if !errors.Is(err, dialect.ErrStaleToken) {
			t.Errorf("%s with token 5 after 10: err = %v, want ErrStaleToken", script, err)
		}
	}
	if db.hasColumn(t, "k", "b") || db.indexExists(t, "k_b") {
		t.Errorf("a stale step ran")
	}
}

func testDryRun(t *testing.T, db *testDB) {
	db.exec(t, "CREATE TABLE e (id int)", "CREATE INDEX e_taken ON e (id)")
	cases := []struct {
		name, script  string
		wantSQLState  string
		wantMsg       string
		wantExecuted  int
		wantEvent     string
		wantNoRelname string
	}{
		{name: "transactional", script: "ALTER TABLE e ADD COLUMN c int; UPDATE e SET c = 1", wantExecuted: 2},
		{name: "transactional error", script: "ALTER TABLE e ADD COLUMN c int; ALTER TABLE nope ADD x int", wantSQLState: "42P01", wantExecuted: 1},
		{name: "index on missing table", script: "CREATE INDEX CONCURRENTLY i1 ON missing (c)", wantSQLState: "42P01",
			wantMsg: "does not exist", wantEvent: "not executed"},
		{name: "index name taken", script: "CREATE INDEX CONCURRENTLY e_taken ON e (id)", wantSQLState: "42P07", wantMsg: "already exists"},
		{name: "index ok", script: "CREATE INDEX CONCURRENTLY e_new ON e (id)", wantEvent: "checked instead", wantNoRelname: "e_new"},
		{name: "drop missing index", script: "DROP INDEX CONCURRENTLY nope_idx", wantSQLState: "42704"},
		{name: "drop missing index if exists", script: "DROP INDEX CONCURRENTLY IF EXISTS nope_idx"},
		{name: "index on table made earlier", script: "CREATE TABLE f (id int); CREATE INDEX CONCURRENTLY f_id ON f (id)",
			wantExecuted: 1, wantNoRelname: "f"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := &eventLog{}
			req := db.step(fmt.Sprintf("dry-%d", i), tc.script)
			req.DryRun = true
			out := db.mustRun(t, req, ev)
			gotState := ""
			if out.Error != nil {
				gotState = out.Error.SQLState
			}
			if gotState != tc.wantSQLState || (tc.wantMsg != "" && !strings.Contains(out.Error.Message, tc.wantMsg)) {
				t.Errorf("outcome error = %+v, want SQLSTATE %q with %q", out.Error, tc.wantSQLState, tc.wantMsg)
			}
			if len(out.Statements) != tc.wantExecuted {
				t.Errorf("executed %d statements, want %d", len(out.Statements), tc.wantExecuted)
			}
			if tc.wantEvent != "" {
				ev.want(t, tc.wantEvent)
			}
			if tc.wantNoRelname != "" && db.relationExists(t, tc.wantNoRelname) {
				t.Errorf("dry run created %s", tc.wantNoRelname)
			}
		})
	}
	if db.hasColumn(t, "e", "c") || len(db.history(t)) != 0 || db.relationExists(t, "hotswap.schema_history") {
		t.Errorf("a dry run changed the database or left a trace in its history")
	}
}

func testCancellation(t *testing.T, db *testDB) {
	db.exec(t, "CREATE TABLE m (id int)")
	for _, script := range []string{"SELECT pg_sleep(30)", "VACUUM m; SELECT pg_sleep(31)"} {
		ctx, cancel := context.WithCancel(t.Context())
		sleeping := regexp.MustCompile(`pg_sleep\(3\d\)`).FindString(script)
		watcher := db.conn(t)
		go func() {
			// Cancel once the statement runs in the server.
			defer cancel()
			for range pollTimeout / (20 * time.Millisecond) {
				if n, err := countActive(ctx, watcher, sleeping); err != nil || n > 0 {
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
		start := time.Now()
		_, err := db.c.ExecuteStep(ctx, db.step("s-"+sleeping, script), nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: err = %v, want context.Canceled", script, err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%s: cancelled step returned after %v", script, took)
		}
		db.waitFor(t, "the cancelled statement to leave pg_stat_activity", func() bool {
			return db.activeQueries(t, sleeping) == 0
		})
	}
}

// testDB is one database of the test server with an executor on it.
type testDB struct {
	c        *postgres.Conn
	dsn      string
	password string
}

// newTestDB creates a database named after the test and opens a Conn on it.
func newTestDB(t *testing.T, p *testbed.Postgres) *testDB {
	name := "t_" + strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(t.Name()), "_"), "_")
	name = name[:min(len(name), 60)]
	admin := connectTo(t, p.DSN(testbed.PostgresDatabase))
	if _, err := admin.Exec(t.Context(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	c, err := postgres.Open(t.Context(), p.DSN(name))
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	t.Cleanup(c.Close)
	return &testDB{c: c, dsn: p.DSN(name), password: p.Password()}
}

// connectTo opens a session that is not the agent's, closed when t ends.
func connectTo(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("parse dsn: %v", err)
	}
	cfg.RuntimeParams["application_name"] = "hotswap-test"
	conn, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// conn opens a new session on the database.
func (db *testDB) conn(t *testing.T) *pgx.Conn { return connectTo(t, db.dsn) }

// exec runs statements on a new session.
func (db *testDB) exec(t *testing.T, stmts ...string) {
	t.Helper()
	conn := db.conn(t)
	for _, s := range stmts {
		if _, err := conn.Exec(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// queryRow runs one query on a new session.
func (db *testDB) queryRow(t *testing.T, sql string, args []any, dest ...any) {
	t.Helper()
	if err := db.conn(t).QueryRow(t.Context(), sql, args...).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// step is a request with the test's defaults.
func (db *testDB) step(id, script string) dialect.StepRequest {
	sum := sha256.Sum256([]byte(script))
	return dialect.StepRequest{
		ExecutionID: "exec-1", StepID: id, MigrationID: "mig-1", MigrationName: "add columns",
		Direction: domain.Forward, Script: script, Checksum: hex.EncodeToString(sum[:]),
		FencingToken: 10, AppliedBy: "tester", LockTimeout: testLockTimeout,
		Deadline: time.Now().Add(20 * time.Second),
	}
}

// mustRun executes a step that must not return an error.
func (db *testDB) mustRun(t *testing.T, req dialect.StepRequest, ev *eventLog) dialect.StepOutcome {
	t.Helper()
	out, err := db.c.ExecuteStep(t.Context(), req, ev.record)
	if err != nil {
		t.Fatalf("ExecuteStep(%s): %v", req.StepID, err)
	}
	return out
}

// history returns the Conn's history.
func (db *testDB) history(t *testing.T) []dialect.HistoryRow {
	t.Helper()
	rows, err := db.c.History(t.Context())
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	return rows
}

// progress lists the statement indexes recorded for a step (not the row
// that marks it started).
func (db *testDB) progress(t *testing.T, stepID string) []int32 {
	t.Helper()
	rows, err := db.conn(t).Query(t.Context(), `SELECT statement_index FROM hotswap.step_progress
		WHERE execution_id = 'exec-1' AND step_id = $1 AND statement_index >= 0 ORDER BY 1`, stepID)
	if err != nil {
		t.Fatalf("read progress: %v", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatalf("read progress: %v", err)
	}
	return got
}

// hasColumn reports whether table has column.
func (db *testDB) hasColumn(t *testing.T, table, column string) bool {
	var ok bool
	db.queryRow(t, `SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = $1 AND column_name = $2)`,
		[]any{table, column}, &ok)
	return ok
}

// relationExists reports whether name resolves to a relation.
func (db *testDB) relationExists(t *testing.T, name string) bool {
	var ok bool
	db.queryRow(t, `SELECT to_regclass($1) IS NOT NULL`, []any{name}, &ok)
	return ok
}

// indexExists reports whether index name exists, valid or not.
func (db *testDB) indexExists(t *testing.T, name string) bool { return db.relationExists(t, name) }

// indexValid reports whether index name exists and is valid.
func (db *testDB) indexValid(t *testing.T, name string) bool {
	var ok bool
	db.queryRow(t, `SELECT coalesce((SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)), false)`,
		[]any{name}, &ok)
	return ok
}

// activeQueries counts the agent's sessions running a query containing text.
func (db *testDB) activeQueries(t *testing.T, text string) int {
	n, err := countActive(t.Context(), db.conn(t), text)
	if err != nil {
		t.Fatalf("count active queries: %v", err)
	}
	return n
}

// countActive counts, on conn, the agent's sessions running a query
// containing text.
func countActive(ctx context.Context, conn *pgx.Conn, text string) (int, error) {
	var n int
	err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1
		AND state = 'active' AND strpos(query, $2) > 0`, postgres.ApplicationName, text).Scan(&n)
	return n, err
}

// waitFor polls cond until it holds, failing the test after pollTimeout.
func (db *testDB) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(pollTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Errorf("timed out waiting for %s", what)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sameHistory compares the fields of a history row the test controls.
func sameHistory(got, want dialect.HistoryRow) bool {
	got.AppliedAt, got.DurationMs = time.Time{}, 0
	return got == want
}

// eventLog records a step's events.
type eventLog struct {
	mu     sync.Mutex
	events []dialect.StepEvent
	// onFirst, when set, sees the first event before the executor goes on.
	onFirst func(dialect.StepEvent)
}

// record is the events callback; a nil log records nothing.
func (l *eventLog) record(e dialect.StepEvent) {
	if l == nil {
		return
	}
	l.mu.Lock()
	first := len(l.events) == 0
	l.events = append(l.events, e)
	l.mu.Unlock()
	if first && l.onFirst != nil {
		l.onFirst(e)
	}
}

// first returns which of texts the earliest event containing one of them
// contains, or "" when none does.
func (l *eventLog) first(texts ...string) string {
	for _, e := range l.snapshot() {
		for _, text := range texts {
			if strings.Contains(e.Message, text) {
				return text
			}
		}
	}
	return ""
}

// snapshot returns the events so far.
func (l *eventLog) snapshot() []dialect.StepEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]dialect.StepEvent(nil), l.events...)
}

// want fails the test unless an event message contains text, or one of
// its "|"-separated alternatives (a retry may wait for the blocker's end
// either way, depending on when the machine let the executor look).
func (l *eventLog) want(t *testing.T, text string) {
	t.Helper()
	var msgs []string
	for _, e := range l.snapshot() {
		for _, alt := range strings.Split(text, "|") {
			if strings.Contains(e.Message, alt) {
				return
			}
		}
		msgs = append(msgs, e.Level+": "+e.Message)
	}
	t.Errorf("no event says %q; events:\n%s", text, strings.Join(msgs, "\n"))
}

// doneCount counts the events reporting a completed statement.
func (l *eventLog) doneCount() int {
	n := 0
	for _, e := range l.snapshot() {
		if e.Done != nil {
			n++
		}
	}
	return n
}

// assertNoSecret fails the test if an event carries the password.
func (l *eventLog) assertNoSecret(t *testing.T, secret string) {
	t.Helper()
	for _, e := range l.snapshot() {
		if strings.Contains(e.Message+e.Statement, secret) {
			t.Errorf("event carries the password: %+v", e)
		}
	}
}

// blocker holds a transaction open on its own session.
type blocker struct {
	conn     *pgx.Conn
	commitAt chan time.Time
}

// startBlocker opens a transaction on conn and runs sql in it.
func startBlocker(t *testing.T, conn *pgx.Conn, sql string) *blocker {
	t.Helper()
	for _, s := range []string{"BEGIN", sql} {
		if _, err := conn.Exec(t.Context(), s); err != nil {
			t.Fatalf("blocker %s: %v", s, err)
		}
	}
	return &blocker{conn: conn, commitAt: make(chan time.Time, 1)}
}

// commitAfter commits after d, reporting when the COMMIT was sent; when
// busy, the blocker spends d running a query rather than idle.
func (b *blocker) commitAfter(d time.Duration, busy bool) {
	if busy {
		_, _ = b.conn.Exec(context.Background(), "SELECT pg_sleep($1)", d.Seconds())
	} else {
		time.Sleep(d)
	}
	at := time.Now()
	_, _ = b.conn.Exec(context.Background(), "COMMIT")
	b.commitAt <- at
}

// wait returns when the blocker sent its COMMIT.
func (b *blocker) wait(t *testing.T) time.Time {
	select {
	case at := <-b.commitAt:
		return at
	case <-time.After(pollTimeout):
		t.Fatalf("blocker did not commit")
		return time.Time{}
	}
}

// reader runs a query in a loop and keeps the longest it took.
type reader struct {
	stopCh chan struct{}
	result chan time.Duration
}

// startReader starts reading on conn.
func startReader(t *testing.T, conn *pgx.Conn, sql string) *reader {
	r := &reader{stopCh: make(chan struct{}), result: make(chan time.Duration, 1)}
	ctx := t.Context()
	go func() {
		var longest time.Duration
		for {
			select {
			case <-r.stopCh:
				r.result <- longest
				return
			default:
			}
			start := time.Now()
			if _, err := conn.Exec(ctx, sql); err != nil {
				r.result <- time.Hour
				return
			}
			longest = max(longest, time.Since(start))
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return r
}

// stop ends the loop and returns the longest query.
func (r *reader) stop() time.Duration {
	close(r.stopCh)
	return <-r.result
}

// testPartialRollback fails a forward step half way (the column is added,
// the unique index fails on duplicates) and rolls it back: the DROP INDEX
// for the index never built is skipped, the column is dropped, and the
// catalog is checked. A step that completed is rolled back whole.
func testPartialRollback(t *testing.T, db *testDB) {
	db.exec(t, "CREATE TABLE pf (id int)", "INSERT INTO pf VALUES (1), (2)")
	const up = "ALTER TABLE pf ADD COLUMN nick2 text DEFAULT 'x'; CREATE UNIQUE INDEX CONCURRENTLY pf_nick2 ON pf (nick2);"
	const down = "DROP INDEX CONCURRENTLY pf_nick2; ALTER TABLE pf DROP COLUMN nick2;"
	out := db.mustRun(t, db.step("s1", up), nil)
	if out.Error == nil || out.Error.SQLState != "23505" || !db.hasColumn(t, "pf", "nick2") {
		t.Fatalf("forward outcome = %+v, want a duplicate key after the column was added", out.Error)
	}
	rb := db.step("s1-rollback", down)
	rb.Direction = domain.Rollback
	rb.Reverts = &dialect.RevertedStep{StepID: "s1", Script: up}
	ev := &eventLog{}
	got := db.mustRun(t, rb, ev)
	if got.Error != nil || len(got.Statements) != 1 || !strings.Contains(got.Statements[0].SQL, "DROP COLUMN") {
		t.Fatalf("rollback outcome = %+v, want only the DROP COLUMN run", got)
	}
	if db.hasColumn(t, "pf", "nick2") || db.indexExists(t, "pf_nick2") {
		t.Errorf("after the rollback: column nick2 %v, index pf_nick2 %v; want neither", db.hasColumn(t, "pf", "nick2"), db.indexExists(t, "pf_nick2"))
	}
	ev.want(t, "skipping rollback statement 1: statement 2 of the forward script")
	ev.want(t, "catalog checked: what the forward step created is gone")

	// A completed step is undone by the whole down script.
	db.exec(t, "DELETE FROM pf WHERE id = 2")
	if out := db.mustRun(t, db.step("s2", up), nil); out.Error != nil {
		t.Fatalf("forward s2: %+v", out.Error)
	}
	rb = db.step("s2-rollback", down)
	rb.Direction = domain.Rollback
	rb.Reverts = &dialect.RevertedStep{StepID: "s2", Script: up}
	ev = &eventLog{}
	if got := db.mustRun(t, rb, ev); got.Error != nil || len(got.Statements) != 2 {
		t.Fatalf("rollback of a completed step = %+v, want both statements run", got)
	}
	if db.hasColumn(t, "pf", "nick2") || db.indexExists(t, "pf_nick2") {
		t.Errorf("the rollback of a completed step left nick2 or pf_nick2")
	}

	// A down script that does not undo everything is reported by name.
	if out := db.mustRun(t, db.step("s3", up), nil); out.Error != nil {
		t.Fatalf("forward s3: %+v", out.Error)
	}
	rb = db.step("s3-rollback", "DROP INDEX CONCURRENTLY pf_nick2")
	rb.Direction = domain.Rollback
	rb.Reverts = &dialect.RevertedStep{StepID: "s3", Script: up}
	ev = &eventLog{}
	db.mustRun(t, rb, ev)
	ev.want(t, "the rollback left column pf.nick2")
}

// testSchemaDrift applies steps, then changes the schema by hand: each
// change is named, and nothing is reported while the schema matches.
func testSchemaDrift(t *testing.T, db *testDB) {
	db.exec(t, "CREATE TABLE sd (id int)", "CREATE TABLE sd_untouched (id int)")
	for i, script := range []string{"ALTER TABLE sd ADD COLUMN a int", "CREATE INDEX CONCURRENTLY sd_a ON sd (a)"} {
		if out := db.mustRun(t, db.step(fmt.Sprintf("d%d", i), script), nil); out.Error != nil {
			t.Fatalf("%s: %+v", script, out.Error)
		}
	}
	if got := db.drift(t); len(got) != 0 {
		t.Fatalf("drift right after the steps = %+v, want none", got)
	}
	// The whole schema is recorded after the step's commit, not in its
	// transaction (under its locks); the touched table in it.
	var apart bool
	db.queryRow(t, `SELECT (SELECT xmin::text FROM hotswap.schema_fingerprint WHERE step_id = 'd0' AND object = '*')
		IS DISTINCT FROM (SELECT xmin::text FROM hotswap.schema_history WHERE step_id = 'd0')
		AND (SELECT xmin::text FROM hotswap.schema_fingerprint WHERE step_id = 'd0' AND object = 'sd')
		= (SELECT xmin::text FROM hotswap.schema_history WHERE step_id = 'd0')`, nil, &apart)
	if !apart {
		t.Error("step d0: the whole schema's record is not apart from the step's transaction, or the table's is")
	}
	db.exec(t, "ALTER TABLE sd ADD COLUMN byhand text", "DROP INDEX sd_a", "CREATE TABLE public.stray (x int)",
		"ALTER TABLE sd_untouched ADD COLUMN byhand int")
	got := db.drift(t)
	var msgs []string
	for _, d := range got {
		msgs = append(msgs, d.Change+" "+d.Object)
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{"added sd: column byhand text", "removed sd: index sd_a: CREATE INDEX sd_a", "added table stray",
		"changed table sd_untouched"} {
		if !strings.Contains(all, want) {
			t.Errorf("drift does not name %q:\n%s", want, all)
		}
	}
	if len(got) != 4 {
		t.Errorf("got %d drift items, want 4:\n%s", len(got), all)
	}
}

// testStepTail: a step's outcome does not wait for the whole schema's
// record, which its tail writes after it; the drift check waits for that
// record, and a record the tail could not write is said by the next step.
func testStepTail(t *testing.T, db *testDB) {
	db.exec(t, "CREATE TABLE tl (id int)")
	db.mustRun(t, db.step("t0", "ALTER TABLE tl ADD COLUMN a int"), nil)
	// Hold every write to the fingerprints off. CREATE SCHEMA touches no
	// table, so the step's own transaction writes none.
	hold := startBlocker(t, db.conn(t), "LOCK TABLE hotswap.schema_fingerprint IN SHARE MODE")
	if out := db.mustRun(t, db.step("t1", "CREATE SCHEMA tl_a"), nil); out.Error != nil {
		t.Fatalf("step t1 = %+v, want applied while its tail waits", out)
	}
	if db.wholeSchemaRecorded(t, "t1") {
		t.Fatal("step t1's whole-schema record exists while its writes are held off")
	}
	short, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if _, err := db.c.SchemaDrift(short); err == nil {
		t.Fatal("SchemaDrift answered before step t1's tail wrote its record")
	}
	go hold.commitAfter(0, false)
	hold.wait(t)
	if got := db.drift(t); len(got) != 0 || !db.wholeSchemaRecorded(t, "t1") {
		t.Fatalf("after the tail: drift %+v, record of t1 written %v; want none and written", got, db.wholeSchemaRecorded(t, "t1"))
	}

	// A tail that cannot write (held off past its time) is said by the next step.
	hold = startBlocker(t, db.conn(t), "LOCK TABLE hotswap.schema_fingerprint IN SHARE MODE")
	db.mustRun(t, db.step("t2", "CREATE SCHEMA tl_b"), nil)
	go hold.commitAfter(6*time.Second, false) // past the tail's 5 s bound
	ev := &eventLog{}
	if out := db.mustRun(t, db.step("t3", "CREATE SCHEMA tl_c"), ev); out.Error != nil {
		t.Fatalf("step t3 = %+v, want applied", out)
	}
	hold.wait(t)
	ev.want(t, "an earlier step's bookkeeping failed: step t2 of execution exec-1 is applied and recorded, but")
}

// wholeSchemaRecorded reports whether step stepID's whole-schema record exists.
func (db *testDB) wholeSchemaRecorded(t *testing.T, stepID string) bool {
	t.Helper()
	var ok bool
	db.queryRow(t, `SELECT EXISTS (SELECT FROM hotswap.schema_fingerprint WHERE step_id = $1 AND object = '*')`, []any{stepID}, &ok)
	return ok
}

// drift returns the Conn's schema drift.
func (db *testDB) drift(t *testing.T) []domain.SchemaDrift {
	t.Helper()
	got, err := db.c.SchemaDrift(t.Context())
	if err != nil {
		t.Fatalf("SchemaDrift: %v", err)
	}
	return got
}
