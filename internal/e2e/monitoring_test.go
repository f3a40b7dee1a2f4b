package e2e

import (
	"context"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// monitored is the monitoring settings the tests run with: short windows,
// fast samples.
func monitored(extra map[string]any) map[string]any {
	m := map[string]any{"baselineWindowSeconds": 5, "monitorWindowSeconds": 6, "sampleIntervalMs": 250}
	for k, v := range extra {
		m[k] = v
	}
	return map[string]any{"monitoring": m}
}

// load runs query in clients loops on database app until the test ends or
// stop is called.
func (b *bed) load(clients int, query string, args func(i int) []any) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			conn, err := pgx.Connect(ctx, b.pg.DSN("app"))
			if err != nil {
				return
			}
			defer conn.Close(context.Background())
			for i := c; ctx.Err() == nil; i += clients {
				var a []any
				if args != nil {
					a = args(i)
				}
				_, _ = conn.Exec(ctx, query, a...)
			}
		}(c)
	}
	stop = func() { cancel(); wg.Wait() }
	b.t.Cleanup(stop)
	return stop
}

// waitBaseline waits until the leader has a few samples with traffic.
func (b *bed) waitBaseline() {
	b.t.Helper()
	eventually(b.t, 20*time.Second, "samples with traffic", func() bool {
		var h struct {
			Instances []struct {
				Counters *domain.Sample `json:"counters"`
			}
		}
		r := b.api.do("GET", "/api/v1/databases/app/health", nil)
		if r.Status != http.StatusOK {
			return false
		}
		r.decode(b.t, &h)
		return len(h.Instances) > 0 && h.Instances[0].Counters != nil && h.Instances[0].Counters.Calls > 0
	})
	time.Sleep(4 * time.Second) // a baseline window's worth
}

func decisionsOf(t *testing.T, b *bed, mig, exec string) []domain.Decision {
	var m struct {
		Decisions []domain.Decision
		Snapshots []domain.Snapshot
		Baselines []struct{ Baseline domain.Baseline }
	}
	b.api.must(http.StatusOK, "GET", "/api/v1/migrations/"+mig+"/executions/"+exec+"/metrics", nil).decode(t, &m)
	return m.Decisions
}

// TestRollbackOnLatency: a migration drops an index the workload needs; the
// workload slows down and the execution rolls back, naming latency.
func TestRollbackOnLatency(t *testing.T) {
	b := newBed(t)
	b.exec("CREATE TABLE items (id int, k int, pad text)",
		"INSERT INTO items SELECT g, g, repeat('x', 50) FROM generate_series(1, 200000) g",
		"CREATE INDEX items_k ON items (k)", "ANALYZE items")
	b.load(2, "SELECT id FROM items WHERE k = $1", func(i int) []any { return []any{i%200000 + 1} })
	b.waitBaseline()

	mig := b.migration("drop_items_k", "DROP INDEX items_k;", "CREATE INDEX IF NOT EXISTS items_k ON items (k);")
	e := b.waitTerminal(mig, b.execute(mig, monitored(nil)), 60*time.Second)
	if e.Status != domain.ExecutionRolledBack || !strings.Contains(e.RollbackReason, "latency") {
		t.Fatalf("execution = %s (%q), want RolledBack for latency\n%s", e.Status, e.RollbackReason, logText(e))
	}
	if n := b.query(`SELECT count(*) FROM pg_indexes WHERE indexname = 'items_k'`).(int64); n != 1 {
		t.Error("the index was not put back by the rollback")
	}
	ds := decisionsOf(t, b, mig, e.ExecutionID)
	if len(ds) != 1 || ds[0].Counter != domain.CounterLatency || ds[0].Value <= ds[0].Threshold || ds[0].RollbackFinishedAt.IsZero() {
		t.Fatalf("decisions = %+v, want one latency decision with value over threshold and rollback finished", ds)
	}
	t.Logf("latency %.2fms over %.2fms: detected %s after onset, rolled back %s after detection",
		ds[0].Value, ds[0].Threshold, ds[0].DetectedAt.Sub(ds[0].OnsetAt), ds[0].RollbackFinishedAt.Sub(ds[0].DetectedAt))
}

// TestRollbackOnLockWait: a migration waits in the lock queue (a long lock
// timeout) behind a busy reader, the application queues behind it, and the
// guard cancels it for the lock waits.
func TestRollbackOnLockWait(t *testing.T) {
	b := newBed(t)
	b.load(2, "UPDATE accounts SET balance = balance + 1 WHERE id = $1", func(i int) []any { return []any{i%1000 + 1} })
	b.waitBaseline()
	reader := b.conn()
	readCtx, stopReading := context.WithCancel(context.Background())
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		_, _ = reader.Exec(readCtx, "SELECT pg_sleep(20) FROM accounts LIMIT 1")
	}()
	defer func() { stopReading(); <-readDone; reader.Close(context.Background()) }()
	time.Sleep(200 * time.Millisecond)

	mig := b.migration("stuck_alter", "ALTER TABLE accounts ADD COLUMN stuck int;", "ALTER TABLE accounts DROP COLUMN IF EXISTS stuck;")
	body := monitored(map[string]any{"thresholds": map[string]any{"lockWaitMs": 1500}})
	body["lockTimeoutMs"] = 15000
	e := b.waitTerminal(mig, b.execute(mig, body), 30*time.Second)
	if e.Status != domain.ExecutionRolledBack || !strings.Contains(e.RollbackReason, "lock wait") {
		t.Fatalf("execution = %s (%q), want RolledBack for lock wait\n%s", e.Status, e.RollbackReason, logText(e))
	}
	if b.hasColumn("accounts", "stuck") {
		t.Error("the column exists: the stuck DDL was not cancelled")
	}
	if ds := decisionsOf(t, b, mig, e.ExecutionID); len(ds) != 1 || ds[0].Counter != domain.CounterLockWait {
		t.Fatalf("decisions = %+v, want one lock_wait decision", ds)
	}
}

// TestHarmlessMigrationNeverRollsBack: under steady load, a harmless
// change, several times, never trips the guard.
func TestHarmlessMigrationNeverRollsBack(t *testing.T) {
	b := newBed(t)
	b.load(2, "UPDATE accounts SET balance = balance + 1 WHERE id = $1", func(i int) []any { return []any{i%1000 + 1} })
	b.waitBaseline()
	for i := 0; i < 3; i++ {
		mig := b.migration("harmless_"+string(rune('a'+i)), "ALTER TABLE accounts ADD COLUMN IF NOT EXISTS note_"+string(rune('a'+i))+" text;",
			"ALTER TABLE accounts DROP COLUMN IF EXISTS note_"+string(rune('a'+i))+";")
		e := b.waitTerminal(mig, b.execute(mig, monitored(map[string]any{"monitorWindowSeconds": 3})), 40*time.Second)
		if e.Status != domain.ExecutionSucceeded || len(e.Decisions) != 0 {
			t.Fatalf("run %d = %s with decisions %+v, want Succeeded and none\n%s", i, e.Status, e.Decisions, logText(e))
		}
	}
}

// TestPauseOnReplicationLag: a real standby whose replay is paused lags;
// the execution pauses; replay resumes, the execution resumes and succeeds.
func TestPauseOnReplicationLag(t *testing.T) {
	b := newBed(t)
	standby := b.pg.StartStandby(t)
	var tok struct{ Token string }
	b.api.must(http.StatusCreated, "POST", "/api/v1/agents", map[string]string{"name": "standby-host"}).decode(t, &tok)
	testbed.StartAgent(t, bins, agentconfig.Config{Name: "standby-host", Token: tok.Token, Servers: []string{b.srv.RPCAddr},
		Instances: []agentconfig.InstanceConfig{{ID: "replica", Engine: domain.PostgreSQL, DSN: standby.DSN("app")}}})
	b.api.must(http.StatusOK, "PUT", "/api/v1/databases/app", map[string]any{"name": "app", "type": "PostgreSQL", "environment": "Production",
		"instances": []map[string]string{{"agent": "pg-host", "instanceId": "main", "role": "Master"},
			{"agent": "standby-host", "instanceId": "replica", "role": "AsyncReplica"}}})
	b.load(2, "UPDATE accounts SET balance = balance + 1 WHERE id = $1", func(i int) []any { return []any{i%1000 + 1} })

	sconn, err := pgx.Connect(context.Background(), standby.DSN("app"))
	if err != nil {
		t.Fatal(err)
	}
	defer sconn.Close(context.Background())
	if _, err := sconn.Exec(context.Background(), "SELECT pg_wal_replay_pause()"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second) // lag builds up past the threshold

	mig := b.migration("while_lagging", "ALTER TABLE accounts ADD COLUMN lagged int;", "ALTER TABLE accounts DROP COLUMN IF EXISTS lagged;")
	exec := b.execute(mig, monitored(map[string]any{"monitorWindowSeconds": 2, "thresholds": map[string]any{"replicationLagSeconds": 2}}))
	eventually(t, 20*time.Second, "the execution to pause", func() bool {
		return b.execution(mig, exec).Status == domain.ExecutionPaused
	})
	time.Sleep(time.Second)
	if b.hasColumn("accounts", "lagged") {
		t.Error("the step ran while the standby lagged")
	}
	if _, err := sconn.Exec(context.Background(), "SELECT pg_wal_replay_resume()"); err != nil {
		t.Fatal(err)
	}
	e := b.waitTerminal(mig, exec, 40*time.Second)
	if e.Status != domain.ExecutionSucceeded || !b.hasColumn("accounts", "lagged") {
		t.Fatalf("execution = %s, want Succeeded after the lag cleared\n%s", e.Status, logText(e))
	}
	var actions []string
	for _, d := range e.Decisions {
		actions = append(actions, d.Action+":"+d.Counter)
	}
	if strings.Join(actions, ",") != "pause:replication_lag,resume:replication_lag" {
		t.Errorf("decisions = %v, want a pause then a resume for replication lag", actions)
	}
}

// TestPrometheusMetrics: /metrics serves the reference's names with values
// that follow the executions, and every metric the shipped Grafana
// dashboard queries exists.
func TestPrometheusMetrics(t *testing.T) {
	b := newBed(t)
	b.load(1, "UPDATE accounts SET balance = balance + 1 WHERE id = $1", func(i int) []any { return []any{i%1000 + 1} })
	b.waitBaseline()
	ok := b.migration("ok_mig", "ALTER TABLE accounts ADD COLUMN m1 int;", "ALTER TABLE accounts DROP COLUMN IF EXISTS m1;")
	b.waitTerminal(ok, b.execute(ok, nil), 30*time.Second)
	bad := b.migration("bad_mig", "ALTER TABLE nosuch ADD COLUMN m2 int;", "SELECT 1;")
	b.waitTerminal(bad, b.execute(bad, nil), 30*time.Second)

	resp, err := http.Get(b.srv.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	text := string(body)
	for _, want := range []string{
		"migrations_in_progress 0", "migrations_executed_total 2", "migrations_succeeded_total 1",
		"migrations_rolled_back_total 1", "migrations_failed_total 0", "migration_execution_duration_seconds_count 2",
		"migration_rollback_duration_seconds_count 1", "databases_registered 1", "agents_connected 1",
		`hotswap_instance_active_connections{agent="pg-host",database="app",instance="main"}`,
		`hotswap_instance_query_latency_seconds{agent="pg-host",database="app",instance="main"}`, `hotswap_raft_is_leader{server="`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	promtoolCheck(t, "hotswapd /metrics", text)
	agentText := scrape(t, "http://"+b.agentMetrics+"/metrics")
	for _, want := range []string{"hotswap_agent_stream_connected 1", "hotswap_agent_stream_sessions_total",
		`hotswap_agent_sample_duration_seconds_count{instance="main"}`,
		`hotswap_agent_step_duration_seconds_count{kind="apply",outcome="ok"}`} {
		if !strings.Contains(agentText, want) {
			t.Errorf("the agent's /metrics lacks %q", want)
		}
	}
	promtoolCheck(t, "hotswap-agent /metrics", agentText)
	// Every metric the dashboard queries is exported.
	dash, err := os.ReadFile("../../packaging/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range regexp.MustCompile(`\b((?:migrations?|hotswap|agents|databases)_[a-z0-9_]+?)(?:_bucket)?\b`).FindAllStringSubmatch(string(dash), -1) {
		if !strings.Contains(text+agentText, "\n"+name[1]) && !strings.Contains(text+agentText, "# TYPE "+name[1]+" ") {
			t.Errorf("the dashboard queries %s, which /metrics does not export", name[1])
		}
	}
}
