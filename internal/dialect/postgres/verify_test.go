package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/postgres"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// verifyFixture is a primary and its physical standby, with a Conn on each.
type verifyFixture struct {
	primary, standby *testbed.Postgres
	pc, sc           *postgres.Conn
}

// TestVerifyStep runs VerifyStep against a real primary and its streaming
// standby. The cases run in order: the first ones need a database without
// history tables, and pausing replay affects the whole standby.
func TestVerifyStep(t *testing.T) {
	primary := testbed.StartPostgres(t, testbed.PostgresOptions{})
	standby := primary.StartStandby(t)
	f := &verifyFixture{primary: primary, standby: standby,
		pc: open(t, primary.DSN(testbed.PostgresDatabase)), sc: open(t, standby.DSN(testbed.PostgresDatabase))}
	t.Run("OnPrimary", f.testOnPrimary)
	t.Run("NoHistoryTable", f.testNoHistoryTable)
	t.Run("Arrives", f.testArrives)
	t.Run("ReplayPaused", f.testReplayPaused)
	t.Run("LagBound", f.testLagBound)
	t.Run("NeverApplied", f.testNeverApplied)
	t.Run("Cancelled", f.testCancelled)
}

// testOnPrimary: a verify step on a primary is an error, and leaves no
// history table behind.
func (f *verifyFixture) testOnPrimary(t *testing.T) {
	ev := &eventLog{}
	out, err := verifyOn(t, f.pc, verifyReq("exec-v", "s1", 5*time.Second), ev)
	if err == nil || !strings.Contains(err.Error(), "not a standby") {
		t.Fatalf("VerifyStep on the primary: outcome %+v, err %v; want a 'not a standby' error", out, err)
	}
	var exists bool
	queryRow(t, f.primary.DSN(testbed.PostgresDatabase), "SELECT to_regclass('hotswap.schema_history') IS NOT NULL", &exists)
	if exists {
		t.Errorf("VerifyStep created hotswap.schema_history on the primary")
	}
}

// testNoHistoryTable: before any step was applied, the standby has no
// history table; that is "not arrived", not an error.
func (f *verifyFixture) testNoHistoryTable(t *testing.T) {
	// A standby takes no writes: preparing the history there does nothing.
	if created, err := f.sc.PrepareHistory(t.Context()); created || err != nil {
		t.Fatalf("PrepareHistory on the standby = %v, %v; want nothing done and no error", created, err)
	}
	ev := &eventLog{}
	out, err := verifyOn(t, f.sc, verifyReq("exec-v", "s1", 600*time.Millisecond), ev)
	if err != nil {
		t.Fatalf("VerifyStep: %v", err)
	}
	if out.Error == nil || !strings.Contains(out.Error.Message, "no hotswap.schema_history table") {
		t.Fatalf("outcome error = %+v, want a timeout saying the history table is not there yet", out.Error)
	}
}

// testArrives: a step applied on the primary is verified on the standby
// quickly, and re-verifying it succeeds at once.
func (f *verifyFixture) testArrives(t *testing.T) {
	execSQL(t, f.primary.DSN(testbed.PostgresDatabase), "CREATE TABLE verified (id int)")
	f.apply(t, "exec-v", "s1", "ALTER TABLE verified ADD COLUMN c1 int")
	ev := &eventLog{}
	start := time.Now()
	out, err := verifyOn(t, f.sc, verifyReq("exec-v", "s1", 20*time.Second), ev)
	took := time.Since(start)
	if err != nil || out.Error != nil {
		t.Fatalf("VerifyStep: outcome error %+v, err %v; want success", out.Error, err)
	}
	if took > 2*time.Second {
		t.Errorf("verification took %v, want < 2s", took)
	}
	var n int
	queryRow(t, f.standby.DSN(testbed.PostgresDatabase),
		"SELECT count(*) FROM hotswap.schema_history WHERE execution_id = 'exec-v' AND step_id = 's1'", &n)
	if n != 1 {
		t.Errorf("standby has %d history rows for the step after it verified, want 1", n)
	}
	ev.want(t, "waiting for step s1")
	ev.want(t, "arrived on the standby")
	ev.assertNoSecret(t, f.standby.Password())
	t.Logf("verified in %v", took.Round(time.Millisecond))
}

// testReplayPaused: with replay paused on the standby, a step applied on
// the primary is not verified, and the wait is reported with the pause;
// once replay resumes it is.
func (f *verifyFixture) testReplayPaused(t *testing.T) {
	sdsn := f.standby.DSN(testbed.PostgresDatabase)
	execSQL(t, sdsn, "SELECT pg_wal_replay_pause()")
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			execSQL(t, sdsn, "SELECT pg_wal_replay_resume()")
		}
	}
	defer resume()
	f.apply(t, "exec-v", "s2", "ALTER TABLE verified ADD COLUMN c2 int")

	ev := &eventLog{}
	done := f.startVerify(t, verifyReq("exec-v", "s2", 30*time.Second), ev)
	select {
	case r := <-done:
		t.Fatalf("VerifyStep ended while replay was paused: outcome error %+v, err %v", r.out.Error, r.err)
	case <-time.After(time.Second):
	}
	// The first warning comes about 5 s into the wait.
	waitFor(t, "a warning that replay is paused", func() bool {
		for _, e := range ev.snapshot() {
			if e.Level == "warn" && strings.Contains(e.Message, "replay is paused") && strings.Contains(e.Message, "replay lag") {
				return true
			}
		}
		return false
	})
	select {
	case r := <-done:
		t.Fatalf("VerifyStep ended while replay was paused: outcome error %+v, err %v", r.out.Error, r.err)
	default:
	}
	resumedAt := time.Now()
	resume()
	select {
	case r := <-done:
		if r.err != nil || r.out.Error != nil {
			t.Fatalf("VerifyStep after resume: outcome error %+v, err %v; want success", r.out.Error, r.err)
		}
		t.Logf("verified %v after replay resumed", time.Since(resumedAt).Round(time.Millisecond))
	case <-time.After(5 * time.Second):
		t.Fatalf("VerifyStep still waiting 5s after replay resumed")
	}
	ev.want(t, "arrived on the standby")
}

// testLagBound: a step whose row has been replayed still waits while the
// replay lag is over MaxLagSeconds, and gives up at the deadline saying so;
// without a bound it is verified at once.
func (f *verifyFixture) testLagBound(t *testing.T) {
	sdsn := f.standby.DSN(testbed.PostgresDatabase)
	f.apply(t, "exec-v", "s3", "ALTER TABLE verified ADD COLUMN c3 int")
	if out, err := verifyOn(t, f.sc, verifyReq("exec-v", "s3", 10*time.Second), nil); err != nil || out.Error != nil {
		t.Fatalf("VerifyStep before the pause: outcome error %+v, err %v", out.Error, err)
	}
	execSQL(t, sdsn, "SELECT pg_wal_replay_pause()")
	defer execSQL(t, sdsn, "SELECT pg_wal_replay_resume()")
	execSQL(t, f.primary.DSN(testbed.PostgresDatabase), "INSERT INTO verified (id) VALUES (1)")
	waitFor(t, "the standby to receive WAL it does not replay, and lag over 1 s", func() bool {
		var lagging bool
		err := tryQueryRow(sdsn, `SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()
			AND clock_timestamp() - pg_last_xact_replay_timestamp() > interval '1 second'`, &lagging)
		return err == nil && lagging
	})

	req := verifyReq("exec-v", "s3", 800*time.Millisecond)
	req.MaxLagSeconds = 0.5
	out, err := verifyOn(t, f.sc, req, nil)
	if err != nil {
		t.Fatalf("VerifyStep with a lag bound: %v", err)
	}
	if out.Error == nil || !strings.Contains(out.Error.Message, "history row present") ||
		!strings.Contains(out.Error.Message, "bound 0.5 s") {
		t.Fatalf("outcome error = %+v, want a timeout with the row present and the lag over its bound", out.Error)
	}
	out, err = verifyOn(t, f.sc, verifyReq("exec-v", "s3", 2*time.Second), nil)
	if err != nil || out.Error != nil {
		t.Fatalf("VerifyStep without a lag bound: outcome error %+v, err %v; want success", out.Error, err)
	}
}

// testNeverApplied: a step that never ran on the primary (its step ID was
// applied, but by another execution) times out at the deadline with an
// outcome error and no error.
func (f *verifyFixture) testNeverApplied(t *testing.T) {
	ev := &eventLog{}
	req := verifyReq("exec-other", "s1", time.Second)
	out, err := verifyOn(t, f.sc, req, ev)
	ended := time.Now()
	if err != nil {
		t.Fatalf("VerifyStep: %v", err)
	}
	if out.Error == nil || out.Error.SQLState != "" || out.Error.Statement != "" ||
		!strings.Contains(out.Error.Message, "step s1 did not arrive on the standby within") ||
		!strings.Contains(out.Error.Message, "history row not present") {
		t.Fatalf("outcome error = %+v, want a timeout saying the row is not there", out.Error)
	}
	if over := ended.Sub(req.Deadline); over < 0 || over > 500*time.Millisecond {
		t.Errorf("VerifyStep ended %v after its deadline, want between 0 and 500ms", over)
	}
	ev.want(t, "did not arrive")
}

// testCancelled: cancelling ctx ends the wait with ctx's error.
func (f *verifyFixture) testCancelled(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err := f.sc.VerifyStep(ctx, verifyReq("exec-v", "never", 20*time.Second), nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("VerifyStep with a cancelled ctx: err = %v, want it to wrap ctx.Err()", err)
	}
}

// apply runs script as a step on the primary.
func (f *verifyFixture) apply(t *testing.T, execID, stepID, script string) {
	t.Helper()
	sum := sha256.Sum256([]byte(script))
	req := dialect.StepRequest{ExecutionID: execID, StepID: stepID, MigrationID: "mig-v", MigrationName: "verify",
		Direction: domain.Forward, Script: script, Checksum: hex.EncodeToString(sum[:]), FencingToken: 1,
		AppliedBy: "tester", Deadline: time.Now().Add(20 * time.Second)}
	out, err := f.pc.ExecuteStep(t.Context(), req, nil)
	if err != nil || out.Error != nil {
		t.Fatalf("apply %s on the primary: outcome error %+v, err %v", stepID, out.Error, err)
	}
}

// verifyResult is what a VerifyStep run in the background returned.
type verifyResult struct {
	out dialect.StepOutcome
	err error
}

// startVerify runs VerifyStep on the standby in the background.
func (f *verifyFixture) startVerify(t *testing.T, req dialect.VerifyRequest, ev *eventLog) <-chan verifyResult {
	done := make(chan verifyResult, 1)
	go func() {
		out, err := verifyOn(t, f.sc, req, ev)
		done <- verifyResult{out, err}
	}()
	return done
}

// verifyGrace is how long past its deadline a VerifyStep call may run
// before the test gives up on it.
const verifyGrace = 5 * time.Second

// verifyOn calls VerifyStep on c, cut off verifyGrace after req's deadline
// so that a verifier ignoring its deadline fails the test instead of
// hanging it.
func verifyOn(t *testing.T, c *postgres.Conn, req dialect.VerifyRequest, ev *eventLog) (dialect.StepOutcome, error) {
	ctx, cancel := context.WithDeadline(t.Context(), req.Deadline.Add(verifyGrace))
	defer cancel()
	return c.VerifyStep(ctx, req, ev.record)
}

// verifyReq asks for a step with a deadline wait from now.
func verifyReq(execID, stepID string, wait time.Duration) dialect.VerifyRequest {
	return dialect.VerifyRequest{ExecutionID: execID, StepID: stepID, Deadline: time.Now().Add(wait)}
}

// TestVerifyStepSlowStandby: a standby that does not accept a session
// within a look's time is looked at again until the step's deadline, and
// the timeout says why, rather than failing the step at the first look.
func TestVerifyStepSlowStandby(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan net.Conn, 16)
	defer func() {
		ln.Close()
		for len(held) > 0 {
			(<-held).Close()
		}
	}()
	go func() { // accepts and never answers
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			select {
			case held <- c:
			default:
				c.Close()
			}
		}
	}()
	c := open(t, fmt.Sprintf("postgres://%s:pw@%s/app?sslmode=disable", testbed.PostgresUser, ln.Addr()))
	out, err := verifyOn(t, c, verifyReq("exec-v", "s1", 4500*time.Millisecond), &eventLog{})
	if err != nil {
		t.Fatalf("VerifyStep: %v; want the step's own timeout, not an error", err)
	}
	if out.Error == nil || !strings.Contains(out.Error.Message, "did not accept a session") {
		t.Fatalf("outcome error = %+v, want a timeout naming the standby that did not accept a session", out.Error)
	}
}
