package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/postgres"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// TestRedelivery: a step delivered again while, or after, the backend of
// an earlier delivery (its agent killed) ran its statement. The earlier
// delivery is played by a session holding the step's lock, as the
// orphaned backend does.
func TestRedelivery(t *testing.T) {
	p := testbed.StartPostgres(t, testbed.PostgresOptions{})
	cases := []struct {
		name string
		run  func(t *testing.T, db *testDB)
	}{
		{"OrphanFinishesTheIndex", testOrphanFinishesIndex},
		{"OrphanLeavesAnInvalidIndex", testOrphanLeavesInvalidIndex},
		{"OrphanTerminatedPastTheDeadline", testOrphanTerminated},
		{"SessionBounds", testSessionBounds},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newTestDB(t, p))
		})
	}
}

// orphan is the backend of an earlier delivery of step s1.
type orphan struct {
	conn *pgx.Conn
	pid  int32
	done chan error
}

// startOrphan marks step s1 started by an earlier delivery, takes the
// step's lock on a session of its own and runs sql there in the background.
func startOrphan(t *testing.T, db *testDB, sql string) *orphan {
	t.Helper()
	db.mustRun(t, db.step("s0", "CREATE TABLE setup_done (id int)"), nil) // creates the history tables
	db.exec(t, "INSERT INTO hotswap.step_progress (execution_id, step_id, statement_index) VALUES ('exec-1', 's1', -1)")
	o := &orphan{conn: db.conn(t), done: make(chan error, 1)}
	class, obj := postgres.StepLock("exec-1", "s1")
	if err := o.conn.QueryRow(t.Context(), `SELECT pg_backend_pid(), pg_advisory_lock($1::bigint::bit(32)::int, $2::bigint::bit(32)::int)::text`,
		int64(class), int64(obj)).Scan(&o.pid, new(string)); err != nil {
		t.Fatalf("orphan takes the step's lock: %v", err)
	}
	go func() {
		_, err := o.conn.Exec(context.Background(), sql)
		o.done <- err
	}()
	db.waitFor(t, "the orphan's statement to run", func() bool {
		var n int
		db.queryRow(t, `SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'active'`, []any{o.pid}, &n)
		return n == 1
	})
	return o
}

// end waits for the orphan's statement and ends its session, as the
// backend of a killed agent ends once its statement is over.
func (o *orphan) end(t *testing.T) error {
	t.Helper()
	select {
	case err := <-o.done:
		_ = o.conn.Close(context.Background())
		return err
	case <-time.After(pollTimeout):
		t.Fatal("the orphan's statement did not end")
		return nil
	}
}

// delivery is how a re-delivered step ended.
type delivery struct {
	out dialect.StepOutcome
	err error
}

// redeliver runs step s1 in the background.
func redeliver(t *testing.T, db *testDB, req dialect.StepRequest, ev *eventLog) chan delivery {
	out := make(chan delivery, 1)
	go func() {
		o, err := db.c.ExecuteStep(t.Context(), req, ev.record)
		out <- delivery{o, err}
	}()
	return out
}

// outcome waits for the re-delivered step, which must not fail to run.
func outcome(t *testing.T, ch chan delivery) dialect.StepOutcome {
	t.Helper()
	d := ended(t, ch)
	if d.err != nil {
		t.Errorf("ExecuteStep(s1): %v", d.err)
	}
	return d.out
}

// ended waits for the re-delivered step, however it ended.
func ended(t *testing.T, ch chan delivery) delivery {
	t.Helper()
	select {
	case d := <-ch:
		return d
	case <-time.After(2 * pollTimeout):
		t.Fatal("the re-delivered step did not end")
		return delivery{}
	}
}

// historyRows counts the history rows of step s1.
func historyRows(t *testing.T, db *testDB) int {
	var n int
	db.queryRow(t, `SELECT count(*) FROM hotswap.schema_history WHERE execution_id = 'exec-1' AND step_id = 's1'`, nil, &n)
	return n
}

// testOrphanFinishesIndex: the orphan's CREATE INDEX CONCURRENTLY waits
// for a writer, the step is delivered again meanwhile; the delivery waits
// for the orphan, then recognises the valid index it built and records
// the step applied, once, without running the statement again (which
// failed with 42P07).
func testOrphanFinishesIndex(t *testing.T, db *testDB) {
	const cic = "CREATE INDEX CONCURRENTLY o_v_idx ON o (v)"
	db.exec(t, "CREATE TABLE o (id int, v int)", "INSERT INTO o SELECT g, g % 10 FROM generate_series(1, 1000) g")
	writer := startBlocker(t, db.conn(t), "INSERT INTO o VALUES (0, 0)")
	orph := startOrphan(t, db, cic)
	ev := &eventLog{}
	res := redeliver(t, db, db.step("s1", "ALTER TABLE o ADD COLUMN w int; "+cic), ev)
	db.waitFor(t, "the delivery to wait for the orphan", func() bool { return ev.first("still runs in backend pid") != "" })
	go writer.commitAfter(0, false)
	if err := orph.end(t); err != nil {
		t.Fatalf("the orphan's index build failed: %v", err)
	}
	out := outcome(t, res)
	if out.Error != nil {
		t.Fatalf("re-delivered step failed: %+v\nevents: %v", out.Error, ev.snapshot())
	}
	ev.want(t, "recorded as done")
	if len(out.Statements) != 1 || out.Statements[0].Index != 0 {
		t.Errorf("statements run = %+v, want only statement 1 (the ALTER)", out.Statements)
	}
	if !db.indexValid(t, "o_v_idx") || !db.hasColumn(t, "o", "w") {
		t.Error("index o_v_idx or column w missing")
	}
	if n := historyRows(t, db); n != 1 {
		t.Errorf("history rows for s1 = %d, want 1", n)
	}
	if got := fmt.Sprint(db.progress(t, "s1")); got != "[0 1]" {
		t.Errorf("step_progress = %s, want [0 1]", got)
	}
}

// testOrphanLeavesInvalidIndex: the orphan's index build is cancelled (the
// backend noticed its client was gone); the delivery drops the invalid
// index it left and builds it again.
func testOrphanLeavesInvalidIndex(t *testing.T, db *testDB) {
	const cic = "CREATE INDEX CONCURRENTLY o_v_idx ON o (v)"
	db.exec(t, "CREATE TABLE o (id int, v int)", "INSERT INTO o SELECT g, g % 10 FROM generate_series(1, 1000) g")
	writer := startBlocker(t, db.conn(t), "INSERT INTO o VALUES (0, 0)")
	orph := startOrphan(t, db, cic)
	ev := &eventLog{}
	res := redeliver(t, db, db.step("s1", cic), ev)
	db.waitFor(t, "the delivery to wait for the orphan", func() bool { return ev.first("still runs in backend pid") != "" })
	db.exec(t, fmt.Sprintf("SELECT pg_cancel_backend(%d)", orph.pid))
	if err := orph.end(t); err == nil {
		t.Fatal("the orphan's index build was not cancelled")
	}
	if db.indexValid(t, "o_v_idx") || !db.indexExists(t, "o_v_idx") {
		t.Fatal("the cancelled build left no invalid index: the case tests nothing")
	}
	go writer.commitAfter(0, false)
	out := outcome(t, res)
	if out.Error != nil {
		t.Fatalf("re-delivered step failed: %+v\nevents: %v", out.Error, ev.snapshot())
	}
	ev.want(t, "dropped invalid index")
	if !db.indexValid(t, "o_v_idx") || historyRows(t, db) != 1 {
		t.Errorf("index valid %v, history rows %d: want a valid index and 1 row", db.indexValid(t, "o_v_idx"), historyRows(t, db))
	}
}

// testOrphanTerminated: an orphan still running when the step's deadline
// passes is terminated.
func testOrphanTerminated(t *testing.T, db *testDB) {
	orph := startOrphan(t, db, "SELECT pg_sleep(60)")
	req := db.step("s1", "CREATE TABLE late (id int)")
	req.Deadline = time.Now().Add(time.Second)
	ev := &eventLog{}
	res := redeliver(t, db, req, ev)
	if err := orph.end(t); err == nil {
		t.Fatal("the orphan's statement ended without an error: it was not terminated")
	}
	// The step itself is past its deadline by then: it may run or be cut
	// short by its statement_timeout; either way the orphan is gone.
	ended(t, res)
	ev.want(t, "terminated the earlier delivery's backend")
}

// testSessionBounds: the step's session carries the bounds that hold when
// the agent is frozen or dead: idle_in_transaction_session_timeout, a
// statement_timeout no later than the deadline, and
// client_connection_check_interval.
func testSessionBounds(t *testing.T, db *testDB) {
	const check = `DO $$ BEGIN
		IF current_setting('idle_in_transaction_session_timeout') IN ('0', '0ms') THEN RAISE EXCEPTION 'no idle bound'; END IF;
		IF current_setting('statement_timeout') IN ('0', '0ms') THEN RAISE EXCEPTION 'no statement bound'; END IF;
		IF current_setting('client_connection_check_interval') IN ('0', '0ms') THEN RAISE EXCEPTION 'no connection check'; END IF;
	END $$`
	req := db.step("s1", check)
	req.StatementTimeout = time.Hour // the deadline, 20 s away, bounds it
	if out := db.mustRun(t, req, nil); out.Error != nil {
		t.Fatalf("transactional step: %+v", out.Error)
	}
	db.exec(t, "CREATE TABLE sb (id int)")
	stepwise := db.step("s2", check+"; CREATE INDEX CONCURRENTLY sb_idx ON sb (id)")
	if out := db.mustRun(t, stepwise, nil); out.Error != nil {
		t.Fatalf("stepwise step: %+v", out.Error)
	}
	bounded := db.step("s3", `DO $$ BEGIN
		IF current_setting('statement_timeout')::interval > interval '21 seconds' THEN RAISE EXCEPTION 'statement bound past the deadline'; END IF;
	END $$`)
	bounded.StatementTimeout = time.Hour
	if out := db.mustRun(t, bounded, nil); out.Error != nil {
		t.Fatalf("statement_timeout past the deadline: %+v", out.Error)
	}
}
