package mysql_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/mysql"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// TestReplicasAlgorithmsVerifyAndSampler runs on one primary with a GTID
// replica: the probe's roles and links, the online algorithm chosen, COPY
// refused unless allowed, a verify step on the replica, a replica-local
// change, and the sampler's figures.
func TestReplicasAlgorithmsVerifyAndSampler(t *testing.T) {
	m := testbed.StartMariaDB(t, testbed.MariaDBOptions{})
	r := m.StartReplica(t)
	primary := open(t, m.DSN(testbed.MariaDBDatabase))
	replica := open(t, r.DSN(testbed.MariaDBDatabase))
	t.Run("Probe", func(t *testing.T) { testProbe(t, primary, replica, r) })
	t.Run("Algorithms", func(t *testing.T) { testAlgorithms(t, primary) })
	t.Run("VerifyAndLocal", func(t *testing.T) { testVerifyAndLocal(t, m, r, primary, replica) })
	t.Run("Sampler", func(t *testing.T) { testSampler(t, m, primary) })
	t.Run("FencingPerSchema", func(t *testing.T) { testFencingPerSchema(t, m, primary) })
	t.Run("ResumeAfterUnrecordedStatement", func(t *testing.T) { testResumeAfterUnrecorded(t, primary) })
}

// testResumeAfterUnrecorded: an earlier delivery started a statement, the
// server applied it, and the agent died before recording it done. The
// re-delivered step sees the statement's effect already there and counts
// it as done; the same error on a statement no delivery started (the
// object was there before the step) still fails the step.
func testResumeAfterUnrecorded(t *testing.T, primary *mysql.Conn) {
	exec := func(sql string) {
		t.Helper()
		if _, err := primary.DB().ExecContext(t.Context(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	// What the earlier delivery left: its intent row and the table it made.
	exec("CREATE TABLE resumed (id int PRIMARY KEY)")
	exec("INSERT INTO `hotswap`.`step_intent` (execution_id, step_id, statement_index) VALUES ('unit', 'resume-1', 0)")
	req := step("resume-1", "CREATE TABLE resumed (id int PRIMARY KEY); ALTER TABLE resumed ADD COLUMN c int")
	req.FencingToken = 200 // above the earlier cases'
	out, msgs := run(t, primary, req)
	if out.Error != nil || len(out.Statements) != 1 || out.Statements[0].Index != 1 || !strings.Contains(strings.Join(msgs, "\n"), "counted as done") {
		t.Fatalf("re-delivery after an unrecorded statement: %+v %+v\n%s; want statement 1 counted as done, statement 2 run",
			out.Error, out.Statements, strings.Join(msgs, "\n"))
	}
	var column, history int
	if err := primary.DB().QueryRowContext(t.Context(), "SELECT (SELECT count(*) FROM information_schema.COLUMNS WHERE TABLE_NAME = 'resumed' AND COLUMN_NAME = 'c'), "+
		"(SELECT count(*) FROM `hotswap`.`schema_history` WHERE step_id = 'resume-1')").Scan(&column, &history); err != nil {
		t.Fatal(err)
	}
	if column != 1 || history != 1 {
		t.Errorf("after the re-delivery: column c %d, history rows %d; want 1 and 1", column, history)
	}
	exec("CREATE TABLE preexisting (id int PRIMARY KEY)")
	req = step("resume-2", "CREATE TABLE preexisting (id int PRIMARY KEY)")
	req.FencingToken = 200
	out, _ = run(t, primary, req)
	if out.Error == nil || out.Error.SQLState != "1050" {
		t.Errorf("a table that was there before the step: error %+v, want 1050 (no delivery started the statement)", out.Error)
	}
}

// testFencingPerSchema: two databases of one server have their own
// execution locks, so their fencing tokens are compared apart: a token
// recorded on one never makes the other's steps stale.
func testFencingPerSchema(t *testing.T, m *testbed.MariaDB, primary *mysql.Conn) {
	if _, err := primary.DB().ExecContext(t.Context(), "CREATE DATABASE tenant2"); err != nil {
		t.Fatal(err)
	}
	other := open(t, m.DSN("tenant2"))
	high := step("tenant1-high", "CREATE TABLE fenced1 (id int)")
	high.FencingToken = 100
	if out, _ := run(t, primary, high); out.Error != nil {
		t.Fatal(out.Error)
	}
	if out, _ := run(t, other, step("tenant2-low", "CREATE TABLE fenced2 (id int)")); out.Error != nil {
		t.Fatal(out.Error)
	}
	_, err := primary.ExecuteStep(t.Context(), step("tenant1-low", "CREATE TABLE fenced3 (id int)"), nil)
	if !errors.Is(err, dialect.ErrStaleToken) {
		t.Errorf("older token on the same schema: err %v, want ErrStaleToken", err)
	}
}

func open(t *testing.T, dsn string) *mysql.Conn {
	t.Helper()
	c, err := mysql.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func testProbe(t *testing.T, primary, replica *mysql.Conn, r *testbed.MariaDB) {
	ps, err := primary.Probe(t.Context())
	if err != nil || ps.Role != domain.DetectedPrimary || !strings.Contains(ps.ServerVersion, "MariaDB") {
		t.Fatalf("primary: %+v, %v; want a reachable MariaDB primary", ps, err)
	}
	rs, err := replica.Probe(t.Context())
	if err != nil || rs.Role != domain.DetectedStandby {
		t.Fatalf("replica: %+v, %v; want a standby", rs, err)
	}
	var up, down bool
	for _, l := range rs.Links {
		up = up || (l.Direction == "upstream" && l.Kind == "binlog" && l.State == "streaming")
	}
	for _, l := range ps.Links {
		down = down || (l.Direction == "downstream" && l.Kind == "binlog")
	}
	if !up || !down {
		t.Errorf("links: replica %+v, primary %+v; want a streaming upstream and a downstream", rs.Links, ps.Links)
	}
	if rs.SystemIdentifier == ps.SystemIdentifier {
		t.Errorf("primary and replica share identifier %q", ps.SystemIdentifier)
	}
	if strings.Contains(rs.Error+ps.Error, r.Password()) {
		t.Error("a probe holds the password")
	}
}

// step is a request for script.
func step(id, script string) dialect.StepRequest {
	return dialect.StepRequest{ExecutionID: "unit", StepID: id, MigrationID: "m", MigrationName: "m", Direction: domain.Forward,
		Script: script, Checksum: strings.Repeat("0", 64), FencingToken: 1, AppliedBy: "test",
		LockTimeout: 300 * time.Millisecond, Deadline: time.Now().Add(20 * time.Second)}
}

func run(t *testing.T, c *mysql.Conn, req dialect.StepRequest) (dialect.StepOutcome, []string) {
	t.Helper()
	var msgs []string
	out, err := c.ExecuteStep(t.Context(), req, func(ev dialect.StepEvent) { msgs = append(msgs, ev.Message+" | "+ev.Statement) })
	if err != nil {
		t.Fatalf("step %s: %v", req.StepID, err)
	}
	return out, msgs
}

func testAlgorithms(t *testing.T, c *mysql.Conn) {
	out, msgs := run(t, c, step("algo-1", "CREATE TABLE algo (id int PRIMARY KEY, c int); ALTER TABLE algo ADD COLUMN d int"))
	if out.Error != nil || len(out.Statements) != 2 || !strings.Contains(out.Statements[1].SQL, "ALGORITHM=INSTANT") {
		t.Fatalf("add column: %+v %v; want it run with ALGORITHM=INSTANT", out, msgs)
	}
	out, msgs = run(t, c, step("algo-2", "CREATE INDEX algo_c ON algo (c)"))
	if out.Error != nil || !strings.Contains(out.Statements[0].SQL, "ALGORITHM=INPLACE LOCK=NONE") {
		t.Fatalf("create index: %+v %v; want INPLACE, LOCK=NONE", out, msgs)
	}
	copyOnly := "ALTER TABLE algo MODIFY c varchar(20)"
	out, msgs = run(t, c, step("algo-3", copyOnly))
	if out.Error == nil || !strings.Contains(out.Error.Message, "only ALGORITHM=COPY is possible") || len(out.Statements) != 0 {
		t.Fatalf("copy-only change: %+v %v; want it refused", out.Error, msgs)
	}
	out, msgs = run(t, c, step("algo-4", mysql.AllowCopyDirective+"\n"+copyOnly))
	if out.Error != nil || len(out.Statements) != 1 || out.Statements[0].SQL != copyOnly {
		t.Fatalf("allowed copy: %+v %v; want it run as written", out, msgs)
	}
}

func testVerifyAndLocal(t *testing.T, m, r *testbed.MariaDB, primary, replica *mysql.Conn) {
	out, _ := run(t, primary, step("shipped", "CREATE TABLE shipped (id int)"))
	if out.Error != nil {
		t.Fatal(out.Error)
	}
	v, err := replica.VerifyStep(t.Context(), dialect.VerifyRequest{ExecutionID: "unit", StepID: "shipped",
		Deadline: time.Now().Add(20 * time.Second), MaxLagSeconds: 5}, nil)
	if err != nil || v.Error != nil {
		t.Fatalf("verify: %+v, %v; want the step arrived", v.Error, err)
	}
	if _, err := primary.VerifyStep(t.Context(), dialect.VerifyRequest{ExecutionID: "unit", StepID: "shipped"}, nil); err == nil {
		t.Error("verify on the primary: want an error")
	}
	// On the replica the change stays local (sql_log_bin=0); with Local, on
	// the primary too: the replica, which has it already, gets nothing.
	out, _ = run(t, replica, step("rolling-replica", "ALTER TABLE shipped ADD COLUMN r int"))
	if out.Error != nil {
		t.Fatal(out.Error)
	}
	req := step("rolling-primary", "ALTER TABLE shipped ADD COLUMN r int")
	req.Local = true
	if out, _ = run(t, primary, req); out.Error != nil {
		t.Fatal(out.Error)
	}
	if err := r.WaitCaughtUp(t.Context(), m); err != nil {
		t.Fatalf("replication after a rolling change: %v", err)
	}
	st, err := replica.Probe(t.Context())
	if err != nil || st.Links[0].State != "streaming" {
		t.Fatalf("replica after the rolling change: %+v, %v; want replication still running", st.Links, err)
	}
}

func testSampler(t *testing.T, m *testbed.MariaDB, c *mysql.Conn) {
	s := c.NewSampler()
	defer s.Close()
	if first, err := s.Sample(t.Context()); err != nil || first.IntervalMs != 0 {
		t.Fatalf("first sample: %+v, %v; want a priming sample", first, err)
	}
	app, err := m.Admin()
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	for range 50 {
		if _, err := app.ExecContext(t.Context(), "SELECT count(*) FROM app.shipped"); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Sample(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got.IntervalMs <= 0 || got.Calls < 50 || got.AvgLatencyMs <= 0 || got.P95LatencyMs <= 0 {
		t.Errorf("sample %+v; want the application's 50 statements counted, with their latency", got)
	}
}
