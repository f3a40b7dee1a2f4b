package oracle

import (
	"context"
	"database/sql/driver"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
)

// events collects a step's events.
type events struct {
	mu  sync.Mutex
	all []dialect.StepEvent
}

// add records one event.
func (e *events) add(ev dialect.StepEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

// has reports whether an event's message contains text.
func (e *events) has(text string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.ContainsFunc(e.all, func(ev dialect.StepEvent) bool { return strings.Contains(ev.Message, text) })
}

// script statements of the log: what is neither bookkeeping nor a look-up.
func scriptStatements(log []string) []string {
	var out []string
	for _, s := range log {
		if strings.Contains(s, "hotswap.") || strings.Contains(s, "v$") || strings.Contains(s, "SYS_CONTEXT") ||
			strings.HasPrefix(s, "ALTER SESSION") || strings.HasPrefix(s, "SELECT") {
			continue
		}
		out = append(out, s)
	}
	return out
}

// TestExecuteStepSQL asserts the SQL the executor sends, in order: the
// session's lock timeout, the history tables, then for each statement its
// intent, the statement (an index built ONLINE) and its progress, and the
// history row last.
func TestExecuteStepSQL(t *testing.T) {
	f := newFake(t)
	out, err := f.conn().ExecuteStep(t.Context(), step("CREATE TABLE app.t (id NUMBER);\nCREATE INDEX app.t_id ON app.t (id)\n/\n"), nil)
	if err != nil || out.Error != nil {
		t.Fatalf("ExecuteStep: %v %+v", err, out.Error)
	}
	var got []string
	for _, s := range f.sent() {
		if strings.HasPrefix(s, "SELECT") {
			continue
		}
		got = append(got, strings.Fields(s)[0]+" "+strings.Join(strings.Fields(s)[1:3], " "))
	}
	want := []string{
		"ALTER SESSION SET", "CREATE TABLE hotswap.schema_history", "CREATE TABLE hotswap.step_progress", "CREATE TABLE hotswap.step_intent",
		"INSERT INTO hotswap.step_intent", "CREATE TABLE app.t", "INSERT INTO hotswap.step_progress",
		"INSERT INTO hotswap.step_intent", "CREATE INDEX app.t_id", "INSERT INTO hotswap.step_progress",
		"INSERT INTO hotswap.schema_history",
	}
	if !slices.Equal(got, want) {
		t.Errorf("commands sent:\n got %q\nwant %q", got, want)
	}
	if s := f.sent(); !slices.Contains(s, "ALTER SESSION SET ddl_lock_timeout = 0") || !slices.Contains(s, "CREATE INDEX app.t_id ON app.t (id) ONLINE") {
		t.Errorf("want ddl_lock_timeout = 0 and the ONLINE build in %q", s)
	}
	if len(out.Statements) != 2 || out.Transactional || out.Retries != 0 {
		t.Errorf("outcome = %+v, want 2 statements, stepwise, no retry", out)
	}
	if f.history["e1/s1"] != 7 {
		t.Errorf("history = %v, want e1/s1 with token 7", f.history)
	}
}

// TestDDLLockTimeoutSeconds rounds the lock timeout down to whole
// seconds: never longer in the queue than asked.
func TestDDLLockTimeoutSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{
		500 * time.Millisecond: "= 0", 999 * time.Millisecond: "= 0", time.Second: "= 1", 2500 * time.Millisecond: "= 2",
	} {
		if got := ddlLockTimeoutSQL(d); !strings.HasSuffix(got, want) {
			t.Errorf("ddlLockTimeoutSQL(%s) = %q, want %q", d, got, want)
		}
	}
}

// TestLockTimeoutRetried retries ORA-00054 with backoff until the lock
// comes.
func TestLockTimeoutRetried(t *testing.T) {
	f := newFake(t)
	var mu sync.Mutex
	busy := 2
	f.ddl = func(_ context.Context, sql string) error {
		mu.Lock()
		defer mu.Unlock()
		if busy > 0 {
			busy--
			return oraErr(54, "resource busy and acquire with NOWAIT specified or timeout expired")
		}
		return nil
	}
	var ev events
	out, err := f.conn().ExecuteStep(t.Context(), step("ALTER TABLE app.t ADD (c NUMBER)"), ev.add)
	if err != nil || out.Error != nil {
		t.Fatalf("ExecuteStep: %v %+v", err, out.Error)
	}
	if out.Retries != 2 || len(out.Statements) != 1 || out.Statements[0].Attempts != 3 {
		t.Errorf("outcome = %+v, want 2 retries and 3 attempts", out)
	}
	if !ev.has("lock timeout on attempt 1") || !ev.has("lock timeout on attempt 2") {
		t.Errorf("events = %+v, want the retries reported", ev.all)
	}
	if n := len(scriptStatements(f.sent())); n != 3 {
		t.Errorf("the ALTER was sent %d times, want 3", n)
	}
}

// TestLockTimeoutGivesUp ends the step at the deadline with ORA-00054.
func TestLockTimeoutGivesUp(t *testing.T) {
	f := newFake(t)
	f.ddl = func(context.Context, string) error { return oraErr(54, "resource busy") }
	req := step("ALTER TABLE app.t ADD (c NUMBER)")
	req.Deadline = time.Now().Add(300 * time.Millisecond)
	out, err := f.conn().ExecuteStep(t.Context(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out.Error == nil || out.Error.SQLState != "ORA-00054" || !strings.Contains(out.Error.Message, "gave up at the deadline") {
		t.Fatalf("outcome error = %+v, want ORA-00054 at the deadline", out.Error)
	}
	if len(f.history) != 0 || f.progress[0] {
		t.Error("a failed step was recorded")
	}
}

// TestReDelivery runs nothing for a step already in the history.
func TestReDelivery(t *testing.T) {
	f := newFake(t)
	c := f.conn()
	if _, err := c.ExecuteStep(t.Context(), step("CREATE TABLE app.t (id NUMBER)"), nil); err != nil {
		t.Fatal(err)
	}
	before := len(scriptStatements(f.sent()))
	out, err := c.ExecuteStep(t.Context(), step("CREATE TABLE app.t (id NUMBER)"), nil)
	if err != nil || !out.AlreadyApplied {
		t.Fatalf("re-delivery: %+v %v, want AlreadyApplied", out, err)
	}
	if after := len(scriptStatements(f.sent())); after != before {
		t.Errorf("a re-delivered step ran %d statement(s)", after-before)
	}
}

// TestStaleToken refuses a token older than one recorded.
func TestStaleToken(t *testing.T) {
	f := newFake(t)
	f.tables = map[string]bool{"SCHEMA_HISTORY": true, "STEP_PROGRESS": true, "STEP_INTENT": true}
	f.history["e0/s0"] = 10
	_, err := f.conn().ExecuteStep(t.Context(), step("CREATE TABLE app.t (id NUMBER)"), nil)
	if !errors.Is(err, dialect.ErrStaleToken) {
		t.Fatalf("err = %v, want ErrStaleToken", err)
	}
	if n := len(scriptStatements(f.sent())); n != 0 {
		t.Errorf("%d statement(s) ran on a stale token", n)
	}
}

// TestResume skips the statements an earlier delivery completed.
func TestResume(t *testing.T) {
	f := newFake(t)
	f.progress[0] = true
	f.intents[0] = true
	var ev events
	out, err := f.conn().ExecuteStep(t.Context(), step("CREATE TABLE app.a (id NUMBER);\nCREATE TABLE app.b (id NUMBER);"), ev.add)
	if err != nil || out.Error != nil {
		t.Fatalf("ExecuteStep: %v %+v", err, out.Error)
	}
	if got := scriptStatements(f.sent()); !slices.Equal(got, []string{"CREATE TABLE app.b (id NUMBER)"}) {
		t.Errorf("ran %q, want only the second statement", got)
	}
	if !ev.has("statement 1 already done by an earlier delivery") {
		t.Errorf("events = %+v, want the skip reported", ev.all)
	}
}

// TestEffectPresent counts "already there" as done only for a statement
// an earlier delivery started; a drop's "does not exist" is its effect,
// a create's is not.
func TestEffectPresent(t *testing.T) {
	cases := []struct {
		name, script string
		code         int
		started      bool
		wantDone     bool
	}{
		{"started create, name used", "CREATE TABLE app.t (id NUMBER)", 955, true, true},
		{"never started create, name used", "CREATE TABLE app.t (id NUMBER)", 955, false, false},
		{"started add column, exists", "ALTER TABLE app.t ADD (c NUMBER)", 1430, true, true},
		{"started not null, already", "ALTER TABLE app.t MODIFY (c NOT NULL)", 1442, true, true},
		{"started drop, gone", "DROP TABLE app.t", 942, true, true},
		{"started create, no table", "CREATE INDEX app.i ON app.t (c)", 942, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(t)
			f.intents[0] = c.started
			f.ddl = func(context.Context, string) error { return oraErr(c.code, "already") }
			out, err := f.conn().ExecuteStep(t.Context(), step(c.script), nil)
			if err != nil {
				t.Fatal(err)
			}
			if done := out.Error == nil; done != c.wantDone {
				t.Errorf("done = %v (error %+v), want %v", done, out.Error, c.wantDone)
			}
			if f.progress[0] != c.wantDone || (len(f.history) == 1) != c.wantDone {
				t.Errorf("progress %v history %v, want recorded = %v", f.progress, f.history, c.wantDone)
			}
		})
	}
}

// TestOfflineBuildRefused refuses an index build the server cannot do
// online, unless the script allows it.
func TestOfflineBuildRefused(t *testing.T) {
	for _, allow := range []bool{false, true} {
		f := newFake(t)
		f.ddl = func(_ context.Context, sql string) error {
			if strings.HasSuffix(sql, " ONLINE") {
				return oraErr(439, "feature not enabled: Online Index Build")
			}
			return nil
		}
		script := "CREATE INDEX app.i ON app.t (c)"
		if allow {
			script = AllowOfflineDirective + "\n" + script
		}
		out, err := f.conn().ExecuteStep(t.Context(), step(script), nil)
		if err != nil {
			t.Fatal(err)
		}
		if allow {
			if out.Error != nil || !slices.Equal(scriptStatements(f.sent()), []string{script[len(AllowOfflineDirective)+1:] + " ONLINE", "CREATE INDEX app.i ON app.t (c)"}) {
				t.Errorf("allowed: %+v, sent %q", out.Error, scriptStatements(f.sent()))
			}
			continue
		}
		if out.Error == nil || !strings.Contains(out.Error.Message, AllowOfflineDirective) {
			t.Errorf("refused: error = %+v, want the directive named", out.Error)
		}
	}
}

// TestPasswordScrubbed keeps the password out of the outcome.
func TestPasswordScrubbed(t *testing.T) {
	f := newFake(t)
	f.ddl = func(context.Context, string) error { return oraErr(1017, "invalid username/password s3cret") }
	out, err := f.conn().ExecuteStep(t.Context(), step("ALTER USER app IDENTIFIED BY s3cret"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if out.Error == nil || strings.Contains(out.Error.Message+out.Error.Statement, "s3cret") || !strings.Contains(out.Error.Message, dialect.Redacted) {
		t.Errorf("outcome error = %+v, want the password redacted", out.Error)
	}
}

// TestStandbyRefused runs no step on a standby.
func TestStandbyRefused(t *testing.T) {
	f := newFake(t)
	f.role, f.openMode = "PHYSICAL STANDBY", "READ ONLY WITH APPLY"
	_, err := f.conn().ExecuteStep(t.Context(), step("CREATE TABLE app.t (id NUMBER)"), nil)
	if !errors.Is(err, errNotWritable) {
		t.Fatalf("err = %v, want errNotWritable", err)
	}
}

// TestCancel cancels the running statement and says so.
func TestCancel(t *testing.T) {
	f := newFake(t)
	running := make(chan struct{})
	f.ddl = func(ctx context.Context, _ string) error {
		close(running)
		<-ctx.Done()
		return oraErr(1013, "user requested cancel of current operation")
	}
	ctx, cancel := context.WithCancel(t.Context())
	go func() { <-running; cancel() }()
	_, err := f.conn().ExecuteStep(ctx, step("CREATE INDEX app.i ON app.t (c) ONLINE"), nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestWaitsForHolders waits, before trying, for a long transaction that
// holds a DML lock on the statement's table, then tries at once.
func TestWaitsForHolders(t *testing.T) {
	f := newFake(t)
	began := time.Now().Add(-time.Minute)
	var mu sync.Mutex
	looks := 0
	f.query = func(q string, args []driver.Value) (*fakeRows, error) {
		mu.Lock()
		defer mu.Unlock()
		switch q {
		case holdersSQL:
			if args[0] != "APP" || args[1] != "T" {
				t.Errorf("holders of %v.%v, want APP.T", args[0], args[1])
			}
			return rowsOf(row(int64(77), int64(5), began, "INACTIVE", int64(60))), nil
		case sessionTxSQL:
			looks++
			if looks < 3 {
				return rowsOf(row(int64(1), began)), nil
			}
			return rowsOf(row(int64(0), nil)), nil
		}
		return nil, nil
	}
	var ev events
	out, err := f.conn().ExecuteStep(t.Context(), step("ALTER TABLE t ADD (c NUMBER)"), ev.add)
	if err != nil || out.Error != nil {
		t.Fatalf("ExecuteStep: %v %+v", err, out.Error)
	}
	if !ev.has("waiting for session 77,5") || !ev.has("transaction of session 77,5 ended: trying now") {
		t.Errorf("events = %+v, want the wait for 77,5", ev.all)
	}
	if looks < 3 {
		t.Errorf("the blocker's transaction was looked at %d times, want until it ended", looks)
	}
}

// TestDryRun runs nothing and checks the catalog.
func TestDryRun(t *testing.T) {
	f := newFake(t)
	f.query = func(q string, args []driver.Value) (*fakeRows, error) {
		switch q {
		case tableExistsSQL:
			return rowsOf(row(int64(0))), nil
		case objectExistsSQL:
			return rowsOf(row(int64(0))), nil
		}
		return nil, nil
	}
	req := step("CREATE TABLE app.n (id NUMBER);\nALTER TABLE app.missing ADD (c NUMBER);")
	req.DryRun = true
	out, err := f.conn().ExecuteStep(t.Context(), req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out.Error == nil || out.Error.SQLState != "ORA-00942" || !strings.Contains(out.Error.Message, `"APP"."MISSING"`) {
		t.Errorf("dry run error = %+v, want ORA-00942 for APP.MISSING", out.Error)
	}
	for _, s := range f.sent() {
		if !strings.HasPrefix(s, "SELECT") {
			t.Errorf("a dry run sent %q", s)
		}
	}
}

// TestCompilationErrors fails a step whose package body compiled with
// errors, and passes one that compiled clean; the unit is looked up under
// its schema, name and kind.
func TestCompilationErrors(t *testing.T) {
	for _, broken := range []bool{false, true} {
		f := newFake(t)
		var asked []driver.Value
		f.query = func(q string, args []driver.Value) (*fakeRows, error) {
			if q != unitErrorsSQL {
				return nil, nil
			}
			asked = args
			if broken {
				return rowsOf(row(int64(3), int64(5), "PLS-00201: identifier 'X' must be declared")), nil
			}
			return rowsOf(), nil
		}
		script := "CREATE OR REPLACE PACKAGE BODY billing.api AS\n  PROCEDURE p IS BEGIN x; END;\nEND;\n/\nCREATE TABLE app.t (id NUMBER);"
		out, err := f.conn().ExecuteStep(t.Context(), step(script), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(asked) != 3 || asked[0] != "BILLING" || asked[1] != "API" || asked[2] != "PACKAGE BODY" {
			t.Errorf("all_errors asked for %v, want BILLING API PACKAGE BODY", asked)
		}
		if !broken {
			if out.Error != nil || len(out.Statements) != 2 {
				t.Errorf("clean unit: %+v", out)
			}
			continue
		}
		if out.Error == nil || out.Error.SQLState != codeCompiledWithErrors || !strings.Contains(out.Error.Message, "line 3, column 5: PLS-00201") {
			t.Errorf("broken unit: error = %+v", out.Error)
		}
		if f.progress[0] || len(scriptStatements(f.sent())) != 1 {
			t.Errorf("a broken unit was recorded done or the step went on: progress %v, sent %q", f.progress, scriptStatements(f.sent()))
		}
	}
}
