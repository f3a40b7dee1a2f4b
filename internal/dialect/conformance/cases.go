package conformance

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// suite is one case's instance and what it has seen.
type suite struct {
	in  Instance
	sql SQL
	mu  sync.Mutex
	// said is every text that left the executor: events, outcomes, errors.
	said []string
}

// step is a request for script as step id of execution "conformance".
func step(id, script string, token uint64) dialect.StepRequest {
	sum := sha256.Sum256([]byte(script))
	return dialect.StepRequest{ExecutionID: "conformance", StepID: id, MigrationID: "m-" + id, MigrationName: "conformance " + id,
		Direction: domain.Forward, Script: script, Checksum: hex.EncodeToString(sum[:]), FencingToken: token,
		AppliedBy: "conformance", LockTimeout: lockTimeout, Deadline: time.Now().Add(pollTimeout)}
}

// run executes req, remembering every text that came back, and passes
// each event to watch (when not nil).
func (c *suite) run(ctx context.Context, req dialect.StepRequest, watch func(dialect.StepEvent)) (dialect.StepOutcome, error) {
	out, err := c.in.Conn.ExecuteStep(ctx, req, func(ev dialect.StepEvent) {
		c.remember(ev.Message, ev.Statement)
		if watch != nil {
			watch(ev)
		}
	})
	c.rememberOutcome(out, err)
	return out, err
}

// mustRun executes req and fails the test unless it succeeds.
func (c *suite) mustRun(t *testing.T, req dialect.StepRequest, watch func(dialect.StepEvent)) dialect.StepOutcome {
	t.Helper()
	out, err := c.run(t.Context(), req, watch)
	if err != nil || out.Error != nil {
		t.Fatalf("step %s: err %v, outcome error %+v", req.StepID, err, out.Error)
	}
	return out
}

func (c *suite) remember(texts ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.said = append(c.said, texts...)
}

func (c *suite) rememberOutcome(out dialect.StepOutcome, err error) {
	if err != nil {
		c.remember(err.Error())
	}
	if out.Error != nil {
		c.remember(out.Error.Message, out.Error.Statement)
	}
	for _, s := range out.Statements {
		c.remember(s.SQL)
	}
}

// exec runs statements on a new session of the application.
func (c *suite) exec(t *testing.T, stmts ...string) {
	t.Helper()
	s := c.in.Session(t)
	for _, sql := range stmts {
		if err := s.Exec(t.Context(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

// waitFor polls cond until it holds, failing the test after pollTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(pollTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(pollEvery)
	}
}

// testExactlyOnce: a step runs once; its re-delivery runs nothing and says
// AlreadyApplied (a second ADD COLUMN would fail); History has one row.
func testExactlyOnce(t *testing.T, c *suite) {
	c.exec(t, c.sql.CreateTable("once"))
	req := step("once", c.sql.AddColumn("once", "c1"), 1)
	first := c.mustRun(t, req, nil)
	if first.AlreadyApplied || len(first.Statements) != 1 {
		t.Fatalf("first delivery: AlreadyApplied %v, %d statement(s); want false, 1", first.AlreadyApplied, len(first.Statements))
	}
	again := c.mustRun(t, req, nil)
	if !again.AlreadyApplied || len(again.Statements) != 0 {
		t.Errorf("re-delivery: AlreadyApplied %v, %d statement(s); want true, none run", again.AlreadyApplied, len(again.Statements))
	}
	rows, err := c.in.Conn.History(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rows {
		if r.ExecutionID == req.ExecutionID && r.StepID == req.StepID {
			n++
			if r.Checksum != req.Checksum || r.FencingToken != req.FencingToken {
				t.Errorf("history row %+v: want checksum %s, token %d", r, req.Checksum, req.FencingToken)
			}
		}
	}
	if n != 1 {
		t.Errorf("history holds the step %d time(s), want once", n)
	}
}

// testStaleToken: once token 10 is recorded, a step with token 5 is refused
// and runs nothing.
func testStaleToken(t *testing.T, c *suite) {
	c.exec(t, c.sql.CreateTable("fenced"))
	c.mustRun(t, step("new-leader", c.sql.AddColumn("fenced", "c1"), 10), nil)
	out, err := c.run(t.Context(), step("old-leader", c.sql.AddColumn("fenced", "c2"), 5), nil)
	if !errors.Is(err, dialect.ErrStaleToken) || len(out.Statements) != 0 {
		t.Fatalf("stale token: err %v, %d statement(s); want ErrStaleToken and nothing run", err, len(out.Statements))
	}
	// Nothing ran: the same column can still be added by a current leader.
	c.mustRun(t, step("new-leader-2", c.sql.AddColumn("fenced", "c2"), 10), nil)
}

// testCancel: cancelling ctx while a statement runs ends the step with
// ctx's error and removes the statement from the server.
func testCancel(t *testing.T, c *suite) {
	sleep := c.sql.Sleep(30)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		defer cancel()
		for ctx.Err() == nil {
			if n, err := c.in.Active(ctx, sleep); err == nil && n > 0 {
				return
			}
			time.Sleep(pollEvery)
		}
	}()
	start := time.Now()
	_, err := c.run(ctx, step("cancelled", sleep, 1), nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled step: err = %v, want context.Canceled", err)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("the cancelled step returned after %v", took)
	}
	waitFor(t, "the cancelled statement to leave the server", func() bool {
		n, err := c.in.Active(t.Context(), sleep)
		return err == nil && n == 0
	})
}

// testLockWait: another session holds a lock the DDL needs; the step waits
// for it outside the lock queue, retries and succeeds, while the
// application's reads of the table are never held up for long.
func testLockWait(t *testing.T, c *suite) {
	c.exec(t, c.sql.CreateTable("busy"))
	holder := c.in.Session(t)
	for _, sql := range []string{c.sql.Begin, c.sql.HoldLock("busy")} {
		if err := holder.Exec(t.Context(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	reads := startReads(t, c.in.Session(t), c.sql.Read("busy"))
	released := make(chan error, 1)
	go func() {
		time.Sleep(holdFor)
		released <- holder.Exec(context.WithoutCancel(t.Context()), c.sql.Commit)
	}()
	var waited bool
	out := c.mustRun(t, step("busy", c.sql.AddColumn("busy", "c1"), 1), func(ev dialect.StepEvent) {
		if strings.Contains(ev.Message, "lock timeout on attempt") || strings.Contains(ev.Message, "before trying") {
			waited = true
		}
	})
	if err := <-released; err != nil {
		t.Fatalf("release the lock: %v", err)
	}
	longest := reads.stop(t)
	if !waited || len(out.Statements) != 1 {
		t.Errorf("step: waited %v, %d statement(s); want a reported wait for the lock, then the statement done", waited, len(out.Statements))
	}
	if longest >= holdFor {
		t.Errorf("a read waited %v while the lock was held for %v: it queued behind the DDL", longest, holdFor)
	}
	t.Logf("retries %d, longest read %v", out.Retries, longest)
}

// testStepwiseResume: a script that cannot run in one transaction is
// interrupted (ctx cancelled, as when the agent dies) while its third
// statement waits for a lock; its re-delivery skips the two done (a second
// CREATE TABLE would fail) and finishes.
func testStepwiseResume(t *testing.T, c *suite) {
	c.exec(t, c.sql.CreateTable("later"))
	script := strings.Join([]string{c.sql.CreateTable("early"), c.sql.NoTransaction("early"), c.sql.AddColumn("later", "c1")}, ";\n")
	holder := c.in.Session(t)
	for _, sql := range []string{c.sql.Begin, c.sql.HoldLock("later")} {
		if err := holder.Exec(t.Context(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req := step("resume", script, 1)
	_, err := c.run(ctx, req, func(ev dialect.StepEvent) {
		if strings.Contains(ev.Message, "lock timeout on attempt") || strings.Contains(ev.Message, "before trying") {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted step: err = %v, want context.Canceled", err)
	}
	if err := holder.Exec(t.Context(), c.sql.Commit); err != nil {
		t.Fatal(err)
	}
	var skipped int
	out := c.mustRun(t, req, func(ev dialect.StepEvent) {
		if strings.Contains(ev.Message, "already done by an earlier delivery") {
			skipped++
		}
	})
	if out.Transactional || out.AlreadyApplied || skipped != 2 || len(out.Statements) != 1 || out.Statements[0].Index != 2 {
		t.Errorf("re-delivery: transactional %v, already applied %v, %d skipped, statements %+v; want stepwise, statements 1-2 skipped, statement 3 (index 2) run",
			out.Transactional, out.AlreadyApplied, skipped, out.Statements)
	}
}

// testNoPassword: the password, quoted in a failing statement, appears in
// no event, outcome or error; neither does it in any earlier case's texts.
func testNoPassword(t *testing.T, c *suite) {
	if c.in.Password == "" {
		t.Fatal("the factory gave no password: the case would prove nothing")
	}
	out, err := c.run(t.Context(), step("secret", c.sql.WithLiteral(c.in.Password), 1), nil)
	if err != nil || out.Error == nil {
		t.Fatalf("failing step: err %v, outcome error %+v; want a database error in the outcome", err, out.Error)
	}
	_, err = c.run(t.Context(), step("stale", c.sql.WithLiteral(c.in.Password), 0), nil)
	if err == nil {
		_, err = c.in.Conn.History(t.Context())
	}
	c.rememberOutcome(dialect.StepOutcome{}, err)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.said) == 0 {
		t.Fatal("nothing was said: the case would prove nothing")
	}
	for _, s := range c.said {
		if strings.Contains(s, c.in.Password) {
			t.Errorf("a message holds the password: %q", s)
		}
	}
}
