package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	wire "github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// bed is a control plane, an agent and a PostgreSQL registered as database "app".
type bed struct {
	t     *testing.T
	pg    *testbed.Postgres
	srv   *testbed.Server
	agent *testbed.Agent
	api   *api
	// agentMetrics is the agent's own /metrics address (metrics_addr).
	agentMetrics string
}

func newBed(t *testing.T, serverArgs ...string) *bed {
	t.Helper()
	return newBedWith(t, func(*agentconfig.Config) {}, serverArgs...)
}

// newBedWith is newBed with the agent's config changed by agentCfg.
func newBedWith(t *testing.T, agentCfg func(*agentconfig.Config), serverArgs ...string) *bed {
	t.Helper()
	pg := testbed.StartPostgres(t, testbed.PostgresOptions{})
	srv := testbed.StartServer(t, bins, testbed.ServerOptions{Args: serverArgs})
	b := &bed{t: t, pg: pg, srv: srv, api: newAPI(t, srv, token(t, srv), nil)}
	var tok struct{ Token string }
	eventually(t, 10*time.Second, "agent token", func() bool {
		r := b.api.do("POST", "/api/v1/agents", map[string]string{"name": "pg-host"})
		if r.Status == http.StatusCreated {
			r.decode(t, &tok)
		}
		return r.Status == http.StatusCreated
	})
	b.exec("CREATE DATABASE second")
	port, err := testbed.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	b.agentMetrics = fmt.Sprintf("127.0.0.1:%d", port)
	cfg := agentconfig.Config{Name: "pg-host", Token: tok.Token, Servers: []string{srv.RPCAddr},
		MetricsAddr: b.agentMetrics,
		Instances: []agentconfig.InstanceConfig{{ID: "main", Engine: domain.PostgreSQL, DSN: pg.DSN("app")},
			{ID: "second", Engine: domain.PostgreSQL, DSN: pg.DSN("second")}}}
	agentCfg(&cfg)
	b.agent = testbed.StartAgent(t, bins, cfg)
	b.api.must(http.StatusCreated, "POST", "/api/v1/databases", dbSpec("app", "pg-host", "main"))
	eventually(t, 20*time.Second, "the agent to connect", func() bool {
		v, ok := b.api.agent("pg-host")
		return ok && v.Connected
	})
	b.exec("CREATE TABLE accounts (id serial PRIMARY KEY, balance int NOT NULL DEFAULT 0)",
		"INSERT INTO accounts (balance) SELECT g FROM generate_series(1, 1000) g")
	return b
}

// exec runs statements on database app directly, as the application would.
func (b *bed) exec(stmts ...string) {
	b.t.Helper()
	conn := b.conn()
	defer conn.Close(context.Background())
	for _, s := range stmts {
		if _, err := conn.Exec(context.Background(), s); err != nil {
			b.t.Fatalf("%s: %v", s, err)
		}
	}
}

func (b *bed) conn() *pgx.Conn {
	b.t.Helper()
	conn, err := pgx.Connect(context.Background(), b.pg.DSN("app"))
	if err != nil {
		b.t.Fatal(err)
	}
	return conn
}

// query returns the first column of the first row.
func (b *bed) query(sql string, args ...any) any {
	b.t.Helper()
	conn := b.conn()
	defer conn.Close(context.Background())
	var v any
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(&v); err != nil {
		b.t.Fatalf("%s: %v", sql, err)
	}
	return v
}

func (b *bed) hasColumn(table, column string) bool {
	return b.query(`SELECT count(*) FROM information_schema.columns WHERE table_name = $1 AND column_name = $2`,
		table, column).(int64) == 1
}

// migration creates a migration and returns its id. Its risk is the one
// the server computes.
func (b *bed) migration(name, up, down string, deps ...string) string {
	b.t.Helper()
	spec := map[string]any{"name": name, "targetDatabaseId": "app", "strategy": "Direct",
		"migrationScript": up, "rollbackScript": down}
	if len(deps) > 0 {
		spec["dependencies"] = deps
	}
	var m struct{ MigrationID string }
	b.api.must(http.StatusCreated, "POST", "/api/v1/migrations", spec).decode(b.t, &m)
	return m.MigrationID
}

// execute starts an execution and returns its id.
func (b *bed) execute(migID string, body map[string]any) string {
	b.t.Helper()
	b.approveAsNeeded(migID)
	var r struct{ ExecutionID string }
	b.api.must(http.StatusAccepted, "POST", "/api/v1/migrations/"+migID+"/execute", body).decode(b.t, &r)
	return r.ExecutionID
}

// approveAsNeeded gives a migration the approvals its computed risk needs,
// from DBA users of the bed's own (the author, the bootstrap token, cannot
// approve). These tests are about rollouts; approvals have tests of their
// own (controlplane/httpapi, cli/commands).
func (b *bed) approveAsNeeded(migID string) {
	b.t.Helper()
	var st wire.ApprovalsResponse
	b.api.must(http.StatusOK, "GET", "/api/v1/migrations/"+migID+"/approvals", nil).decode(b.t, &st)
	for i := st.Valid; i < st.Required; i++ {
		name := fmt.Sprintf("approver%d", i+1)
		const password = "approver passphrase, long enough"
		if r := b.api.do("POST", "/api/v1/users", map[string]any{"username": name, "password": password, "role": "DBA"}); r.Status != http.StatusCreated && r.Status != http.StatusConflict {
			b.t.Fatalf("create approver %s = %d %s", name, r.Status, r.Body)
		}
		var login wire.LoginResponse
		body, _ := json.Marshal(map[string]string{"username": name, "password": password})
		r := b.api.raw("POST", "/api/v1/authentication/login", body, "")
		if r.Status != http.StatusOK {
			b.t.Fatalf("login %s = %d %s", name, r.Status, r.Body)
		}
		r.decode(b.t, &login)
		if r := b.api.raw("POST", "/api/v1/migrations/"+migID+"/approve", []byte(`{"notes":"rollout test"}`), login.Token); r.Status != http.StatusOK {
			b.t.Fatalf("approve %s as %s = %d %s", migID, name, r.Status, r.Body)
		}
	}
}

func (b *bed) execution(migID, execID string) domain.Execution {
	b.t.Helper()
	var e domain.Execution
	b.api.must(http.StatusOK, "GET", "/api/v1/migrations/"+migID+"/executions/"+execID, nil).decode(b.t, &e)
	return e
}

// waitStatus waits for the execution to reach a terminal status and returns it.
func (b *bed) waitTerminal(migID, execID string, timeout time.Duration) domain.Execution {
	b.t.Helper()
	var e domain.Execution
	eventually(b.t, timeout, "execution "+execID+" to finish", func() bool {
		r := b.api.do("GET", "/api/v1/migrations/"+migID+"/executions/"+execID, nil)
		if r.Status != http.StatusOK {
			return false // a restarted server answers 503 until it has replayed its log
		}
		r.decode(b.t, &e)
		return e.Status.Terminal()
	})
	return e
}

func logText(e domain.Execution) string {
	var sb strings.Builder
	for _, l := range e.Logs {
		fmt.Fprintf(&sb, "%s %s %s\n", l.Level, l.Message, l.Statement)
	}
	return sb.String()
}

func TestExecuteAndRollback(t *testing.T) {
	b := newBed(t)
	mig := b.migration("add_email",
		"ALTER TABLE accounts ADD COLUMN email text;\nCREATE INDEX accounts_email ON accounts (email);",
		"DROP INDEX IF EXISTS accounts_email;\nALTER TABLE accounts DROP COLUMN IF EXISTS email;")

	// A dry run changes nothing.
	dry := b.waitTerminal(mig, b.execute(mig, map[string]any{"dryRun": true}), 30*time.Second)
	if dry.Status != domain.ExecutionSucceeded || b.hasColumn("accounts", "email") {
		t.Fatalf("dry run = %s, column present = %v; want Succeeded and no change\n%s", dry.Status, b.hasColumn("accounts", "email"), logText(dry))
	}

	e := b.waitTerminal(mig, b.execute(mig, map[string]any{"environment": "Production"}), 30*time.Second)
	if e.Status != domain.ExecutionSucceeded {
		t.Fatalf("execution = %s: %s\n%s", e.Status, e.ErrorMessage, logText(e))
	}
	if !b.hasColumn("accounts", "email") || b.query(`SELECT count(*) FROM pg_indexes WHERE indexname = 'accounts_email'`).(int64) != 1 {
		t.Fatal("the catalog does not show the column and index")
	}
	if s := e.Steps[0]; len(s.Statements) != 2 || !s.Transactional || e.FencingToken == 0 {
		t.Errorf("step = %+v, fencing %d; want 2 statements in one transaction and a fencing token", s, e.FencingToken)
	}
	if n := b.query(`SELECT count(*) FROM hotswap.schema_history WHERE execution_id = $1 AND direction = 'forward'`, e.ExecutionID).(int64); n != 1 {
		t.Errorf("history rows = %d, want 1", n)
	}
	var mst struct{ Status string }
	b.api.must(http.StatusOK, "GET", "/api/v1/migrations/"+mig, nil).decode(t, &mst)
	if mst.Status != "Succeeded" {
		t.Errorf("migration status = %s, want Succeeded", mst.Status)
	}

	var rb struct{ Status string }
	b.api.must(http.StatusOK, "POST", "/api/v1/migrations/"+mig+"/executions/"+e.ExecutionID+"/rollback",
		map[string]string{"reason": "product asked to undo"}).decode(t, &rb)
	if rb.Status != "RolledBack" || b.hasColumn("accounts", "email") {
		t.Fatalf("rollback = %s, column present = %v; want RolledBack and the column gone", rb.Status, b.hasColumn("accounts", "email"))
	}
	after := b.execution(mig, e.ExecutionID)
	if !strings.Contains(logText(after), "product asked to undo") || after.RollbackRequestedBy == "" {
		t.Errorf("the log does not record the reason and who asked:\n%s", logText(after))
	}
	// The history table and the control plane agree.
	var h struct {
		InSync bool
		Drift  []struct{ Kind, Message string }
	}
	b.api.must(http.StatusOK, "GET", "/api/v1/databases/app/history", nil).decode(t, &h)
	if !h.InSync {
		t.Errorf("history drift after rollback: %+v", h.Drift)
	}
	// Someone deletes a row by hand: the drift is reported.
	b.exec("DELETE FROM hotswap.schema_history WHERE direction = 'rollback'")
	b.api.must(http.StatusOK, "GET", "/api/v1/databases/app/history", nil).decode(t, &h)
	if h.InSync || len(h.Drift) != 1 || h.Drift[0].Kind != "missing" {
		t.Errorf("drift after deleting a history row = %+v, want one missing step", h.Drift)
	}
}

func TestFailingScriptRollsBackAutomatically(t *testing.T) {
	b := newBed(t)
	mig := b.migration("bad_script",
		"CREATE INDEX CONCURRENTLY accounts_balance ON accounts (balance);\nALTER TABLE nosuchtable ADD COLUMN x int;",
		"DROP INDEX CONCURRENTLY IF EXISTS accounts_balance;")
	e := b.waitTerminal(mig, b.execute(mig, nil), 30*time.Second)
	if e.Status != domain.ExecutionRolledBack {
		t.Fatalf("status = %s, want RolledBack\n%s", e.Status, logText(e))
	}
	if e.Error == nil || e.Error.SQLState != "42P01" || !strings.Contains(e.Error.Statement, "nosuchtable") {
		t.Errorf("execution error = %+v, want the database's 42P01 on the failing statement", e.Error)
	}
	// The index the first (non-transactional) statement built was dropped by the rollback.
	if n := b.query(`SELECT count(*) FROM pg_indexes WHERE indexname = 'accounts_balance'`).(int64); n != 0 {
		t.Errorf("index left behind after the automatic rollback")
	}
	if !strings.Contains(e.RollbackRequestedBy, "automatic") {
		t.Errorf("rollbackRequestedBy = %q, want automatic", e.RollbackRequestedBy)
	}
}

func TestExecuteConflictsAndDependencies(t *testing.T) {
	b := newBed(t)
	first := b.migration("first", "ALTER TABLE accounts ADD COLUMN a int; SELECT pg_sleep(2);", "ALTER TABLE accounts DROP COLUMN IF EXISTS a;")
	second := b.migration("second", "ALTER TABLE accounts ADD COLUMN b int;", "ALTER TABLE accounts DROP COLUMN IF EXISTS b;", first)

	r := b.api.do("POST", "/api/v1/migrations/"+second+"/execute", nil)
	if r.Status != http.StatusConflict || !strings.Contains(string(r.Body), "first") {
		t.Fatalf("dependency not met = %d %s, want 409 naming the dependency", r.Status, r.Body)
	}
	running := b.execute(first, nil)
	other := b.migration("other", "ALTER TABLE accounts ADD COLUMN c int;", "ALTER TABLE accounts DROP COLUMN IF EXISTS c;")
	if r := b.api.do("POST", "/api/v1/migrations/"+other+"/execute", nil); r.Status != http.StatusConflict {
		t.Fatalf("second execution on a busy database = %d %s, want 409", r.Status, r.Body)
	}
	// Asked to queue, it waits for the lock and runs after.
	queued := b.execute(other, map[string]any{"queue": true})
	if e := b.waitTerminal(first, running, 30*time.Second); e.Status != domain.ExecutionSucceeded {
		t.Fatalf("first = %s\n%s", e.Status, logText(e))
	}
	if e := b.waitTerminal(other, queued, 30*time.Second); e.Status != domain.ExecutionSucceeded {
		t.Fatalf("queued = %s\n%s", e.Status, logText(e))
	}
	// Now the dependency has succeeded.
	if e := b.waitTerminal(second, b.execute(second, nil), 30*time.Second); e.Status != domain.ExecutionSucceeded {
		t.Fatalf("second = %s\n%s", e.Status, logText(e))
	}
}

// TestLockQueue: a long transaction holds ACCESS SHARE on the table while a
// workload runs. The migration must not hold the workload up beyond its lock
// timeout, and completes soon after the blocker ends.
func TestLockQueue(t *testing.T) {
	b := newBed(t)
	const lockTimeout = 300 * time.Millisecond
	mig := b.migration("add_note", "ALTER TABLE accounts ADD COLUMN note text;", "ALTER TABLE accounts DROP COLUMN IF EXISTS note;")

	blocker := b.conn()
	defer blocker.Close(context.Background())
	tx, err := blocker.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), "LOCK TABLE accounts IN ACCESS SHARE MODE"); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var worst time.Duration
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		worst = workload(t, b, stop)
	}()

	time.Sleep(300 * time.Millisecond)
	exec := b.execute(mig, map[string]any{"lockTimeoutMs": lockTimeout.Milliseconds()})
	time.Sleep(2 * time.Second) // the blocker holds on; the migration must keep out of the way
	if b.hasColumn("accounts", "note") {
		t.Fatal("the column appeared while the blocker held the table")
	}
	released := time.Now()
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := b.waitTerminal(mig, exec, 30*time.Second)
	close(stop)
	wg.Wait()
	if e.Status != domain.ExecutionSucceeded || !b.hasColumn("accounts", "note") {
		t.Fatalf("execution = %s\n%s", e.Status, logText(e))
	}
	if done := e.Steps[0].CompletedAt.Sub(released); done > 2*time.Second {
		t.Errorf("the migration finished %s after the blocker ended, want under 2s", done)
	}
	if worst > lockTimeout+400*time.Millisecond {
		t.Errorf("the workload waited up to %s, want at most the lock timeout (%s) plus slack", worst, lockTimeout)
	}
	t.Logf("worst workload latency %s; finished %s after the blocker", worst, e.Steps[0].CompletedAt.Sub(released))
}

// workload runs reads and writes on accounts until stop closes, and returns
// the longest any of them took.
func workload(t *testing.T, b *bed, stop chan struct{}) time.Duration {
	conn := b.conn()
	defer conn.Close(context.Background())
	var worst time.Duration
	for i := 0; ; i++ {
		select {
		case <-stop:
			return worst
		default:
		}
		start := time.Now()
		if _, err := conn.Exec(context.Background(), "UPDATE accounts SET balance = balance + 1 WHERE id = $1", i%1000+1); err != nil {
			t.Errorf("workload: %v", err)
			return worst
		}
		worst = max(worst, time.Since(start))
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCrashes: the agent killed mid-step, then the server killed
// mid-execution; each time the execution ends consistent with the catalog
// and no step is applied twice.
func TestCrashes(t *testing.T) {
	b := newBed(t)
	// Each migration holds accounts for 2 s on purpose; whatever else reads
	// the database then (the test's own polls) gets slower, and the latency
	// rule may roll it back, rightly: these runs are about crashes, so its
	// floor is set out of their way.
	crashRun := map[string]any{"monitoring": map[string]any{"thresholds": map[string]any{"minLatencyDeltaMs": 1000}}}
	t.Run("agent killed mid-step", func(t *testing.T) {
		mig := b.migration("slow_a", "ALTER TABLE accounts ADD COLUMN slow_a int; SELECT pg_sleep(2);",
			"ALTER TABLE accounts DROP COLUMN IF EXISTS slow_a;")
		exec := b.execute(mig, crashRun)
		eventually(t, 10*time.Second, "the step to run", func() bool {
			return b.query(`SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(2)%' AND application_name = 'hotswap-agent'`).(int64) > 0
		})
		b.agent.Kill()
		if err := b.agent.Start(); err != nil {
			t.Fatal(err)
		}
		e := b.waitTerminal(mig, exec, 40*time.Second)
		if e.Status != domain.ExecutionSucceeded || !b.hasColumn("accounts", "slow_a") {
			t.Fatalf("after the agent crash: %s, column %v\n%s", e.Status, b.hasColumn("accounts", "slow_a"), logText(e))
		}
		if n := b.query(`SELECT count(*) FROM hotswap.schema_history WHERE execution_id = $1`, exec).(int64); n != 1 {
			t.Errorf("history rows = %d, want exactly 1", n)
		}
	})
	t.Run("server killed mid-execution", func(t *testing.T) {
		mig := b.migration("slow_b", "ALTER TABLE accounts ADD COLUMN slow_b int; SELECT pg_sleep(2);",
			"ALTER TABLE accounts DROP COLUMN IF EXISTS slow_b;")
		exec := b.execute(mig, crashRun)
		eventually(t, 10*time.Second, "the step to run", func() bool {
			return b.query(`SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(2)%' AND application_name = 'hotswap-agent'`).(int64) > 0
		})
		b.srv.Kill()
		if err := b.srv.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		e := b.waitTerminal(mig, exec, 40*time.Second)
		if e.Status != domain.ExecutionSucceeded || !b.hasColumn("accounts", "slow_b") {
			t.Fatalf("after the server crash: %s\n%s", e.Status, logText(e))
		}
		if n := b.query(`SELECT count(*) FROM hotswap.schema_history WHERE execution_id = $1`, exec).(int64); n != 1 {
			t.Errorf("history rows = %d, want exactly 1", n)
		}
	})
}

// TestConcurrencyLimitAndTimeout: with --max-concurrent-executions 1 an
// execution on another database waits until the running one ends; an
// execution past its timeout is cancelled and rolled back.
func TestConcurrencyLimitAndTimeout(t *testing.T) {
	b := newBed(t, "--max-concurrent-executions", "1")
	b.api.must(http.StatusCreated, "POST", "/api/v1/databases", dbSpec("second", "pg-host", "second"))
	slow := b.migration("slow", "CREATE TABLE slow_t (id int); SELECT pg_sleep(2);", "DROP TABLE IF EXISTS slow_t;")
	var other struct{ MigrationID string }
	b.api.must(http.StatusCreated, "POST", "/api/v1/migrations", map[string]any{"name": "other", "targetDatabaseId": "second",
		"strategy": "Direct", "migrationScript": "CREATE TABLE other_t (id int);", "rollbackScript": "DROP TABLE IF EXISTS other_t;"}).decode(t, &other)

	first := b.execute(slow, nil)
	eventually(t, 10*time.Second, "the first execution to run", func() bool {
		return b.execution(slow, first).Status == domain.ExecutionRunning
	})
	second := b.execute(other.MigrationID, nil)
	time.Sleep(time.Second)
	if st := b.execution(other.MigrationID, second).Status; st != domain.ExecutionPending {
		t.Fatalf("second execution is %s while the first runs, want Pending (limit 1)", st)
	}
	if e := b.waitTerminal(other.MigrationID, second, 30*time.Second); e.Status != domain.ExecutionSucceeded {
		t.Fatalf("second = %s\n%s", e.Status, logText(e))
	}
	if e := b.execution(slow, first); e.Status != domain.ExecutionSucceeded || e.CompletedAt.After(b.execution(other.MigrationID, second).StartedAt) {
		t.Errorf("the second started before the first ended: first %s ended %s", e.Status, e.CompletedAt)
	}

	stuck := b.migration("stuck", "CREATE TABLE stuck_t (id int); SELECT pg_sleep(30);", "DROP TABLE IF EXISTS stuck_t;")
	e := b.waitTerminal(stuck, b.execute(stuck, map[string]any{"timeoutSeconds": 2}), 20*time.Second)
	if e.Status != domain.ExecutionRolledBack || !strings.Contains(e.RollbackReason, "timeout") {
		t.Fatalf("timed-out execution = %s (%q), want RolledBack for its timeout\n%s", e.Status, e.RollbackReason, logText(e))
	}
	if n := b.query(`SELECT count(*) FROM pg_tables WHERE tablename = 'stuck_t'`).(int64); n != 0 {
		t.Error("the timed-out step's table exists: its transaction was not cancelled")
	}
	if n := b.query(`SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()`).(int64); n != 0 {
		t.Error("the cancelled statement still runs in the database")
	}
}
