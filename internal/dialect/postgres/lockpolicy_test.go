package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// TestTerminateOldBlockers: a session idle in a transaction that holds
// ACCESS SHARE on the table. With the migration's policy terminating
// blockers older than 1 s, the step terminates it, records who it was,
// and succeeds; with the policy off, it is left alone and the step gives
// up at its deadline; a superuser's session is left alone unless the
// policy says so.
func TestTerminateOldBlockers(t *testing.T) {
	p := testbed.StartPostgres(t, testbed.PostgresOptions{})
	db := newTestDB(t, p)
	db.exec(t, "CREATE ROLE blocker LOGIN PASSWORD 'blocker-pw-1'",
		"CREATE TABLE victim (id int)", "GRANT SELECT ON victim TO blocker")
	policy := domain.LockPolicy{TerminateBlockersAfterMs: 1000}

	t.Run("on", func(t *testing.T) {
		blocker := idleHolder(t, connectAs(t, db.dsn, "blocker", "blocker-pw-1"), "victim")
		ev := &eventLog{}
		req := db.step("terminate-on", "ALTER TABLE victim ADD COLUMN c1 int")
		req.LockPolicy, req.Deadline = policy, time.Now().Add(15*time.Second)
		out := db.mustRun(t, req, ev)
		if out.Error != nil {
			t.Fatalf("outcome error = %+v, want success once the blocker is terminated", out.Error)
		}
		ev.want(t, "terminated pid")
		ev.want(t, `user "blocker"`)
		ev.want(t, "LOCK TABLE victim")
		if _, err := blocker.Exec(t.Context(), "SELECT 1"); err == nil {
			t.Error("the blocker's session still answers, want it terminated")
		}
	})
	t.Run("off", func(t *testing.T) {
		blocker := idleHolder(t, connectAs(t, db.dsn, "blocker", "blocker-pw-1"), "victim")
		ev := &eventLog{}
		req := db.step("terminate-off", "ALTER TABLE victim ADD COLUMN c2 int")
		req.Deadline = time.Now().Add(2500 * time.Millisecond)
		out := db.mustRun(t, req, ev)
		if out.Error == nil || out.Error.SQLState != "55P03" {
			t.Fatalf("outcome error = %+v, want a lock timeout at the deadline", out.Error)
		}
		if ev.first("terminated") != "" {
			t.Errorf("events:\n%s\nwant no termination with the policy off", eventText(ev))
		}
		if _, err := blocker.Exec(t.Context(), "ROLLBACK"); err != nil {
			t.Errorf("the blocker's session: %v, want it alive", err)
		}
	})
	t.Run("superuser", func(t *testing.T) {
		blocker := idleHolder(t, db.conn(t), "victim")
		ev := &eventLog{}
		req := db.step("terminate-superuser", "ALTER TABLE victim ADD COLUMN c3 int")
		req.LockPolicy, req.Deadline = policy, time.Now().Add(2500*time.Millisecond)
		out := db.mustRun(t, req, ev)
		if out.Error == nil {
			t.Fatal("the step succeeded, want it to leave a superuser's session alone and give up")
		}
		ev.want(t, "not terminating pid")
		if _, err := blocker.Exec(t.Context(), "SELECT 1"); err != nil {
			t.Errorf("the superuser's session: %v, want it alive", err)
		}
	})
}

// TestNeverFreePolicy: three sessions read the table back to back, 1.2 s
// each, staggered, so that every moment leaves more than the 500 ms lock
// timeout to wait. With neverFree "fail" the step gives up at once with
// the figures, never entering the queue; with "wait" it says so and waits
// outside the queue until its deadline.
func TestNeverFreePolicy(t *testing.T) {
	p := testbed.StartPostgres(t, testbed.PostgresOptions{})
	db := &testDB{c: open(t, p.DSN("app")), dsn: p.DSN("app"), password: p.Password()}
	db.exec(t, "CREATE TABLE busy (id int)", "INSERT INTO busy SELECT generate_series(1, 100)")
	readers := startStream(t, db, 3, "SELECT pg_sleep(1.2), count(*) FROM busy", 400*time.Millisecond)
	db.waitFor(t, "reads with figures in pg_stat_statements", func() bool { return readers.calls.Load() >= 3 })

	run := func(t *testing.T, id string, policy domain.NeverFreePolicy, deadline time.Duration) (dialect.StepOutcome, *eventLog, time.Duration) {
		ev := &eventLog{}
		req := db.step(id, "ALTER TABLE busy ADD COLUMN "+id+" int")
		req.LockTimeout, req.Deadline = 500*time.Millisecond, time.Now().Add(deadline)
		req.LockPolicy.NeverFree = policy
		start := time.Now()
		out := db.mustRun(t, req, ev)
		return out, ev, time.Since(start)
	}
	t.Run("fail", func(t *testing.T) {
		out, ev, took := run(t, "c_fail", domain.NeverFreeFail, 60*time.Second)
		if out.Error == nil || !strings.Contains(out.Error.Message, "neverFree: fail") ||
			!strings.Contains(out.Error.Message, "shortest expected wait") {
			t.Fatalf("outcome error = %+v, want a failure with the figures and the policy", out.Error)
		}
		if took > 20*time.Second || ev.first("entering the lock queue") != "" {
			t.Errorf("took %v, events:\n%s\nwant to give up at once, never entering the queue", took, eventText(ev))
		}
	})
	t.Run("wait", func(t *testing.T) {
		out, ev, _ := run(t, "c_wait", domain.NeverFreeWait, 5*time.Second)
		if out.Error == nil || !strings.Contains(out.Error.Message, "gave up at the deadline") {
			t.Fatalf("outcome error = %+v, want a failure at the deadline", out.Error)
		}
		ev.want(t, "neverFree: wait")
	})
}

// connectAs opens a session on dsn's database as another role.
func connectAs(t *testing.T, dsn, user, password string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("parse dsn: %v", err)
	}
	cfg.User, cfg.Password = user, password
	cfg.RuntimeParams["application_name"] = "hotswap-test"
	conn, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// idleHolder leaves conn idle in a transaction holding ACCESS SHARE on table.
func idleHolder(t *testing.T, conn *pgx.Conn, table string) *pgx.Conn {
	t.Helper()
	if _, err := conn.Exec(t.Context(), "BEGIN; LOCK TABLE "+table+" IN ACCESS SHARE MODE"); err != nil {
		t.Fatalf("hold %s: %v", table, err)
	}
	return conn
}
