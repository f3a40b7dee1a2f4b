package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// shadowBed adds a shadow instance (a clone of the primary's items table)
// registered as ShadowReplica.
func shadowBed(t *testing.T) (*bed, *testbed.Postgres) {
	b := newBed(t)
	shadow := testbed.StartPostgres(t, testbed.PostgresOptions{})
	conn, err := pgx.Connect(context.Background(), shadow.DSN("app"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	setup := []string{"CREATE TABLE items (id int, k int, pad text)",
		"INSERT INTO items SELECT i, i, repeat('x', 50) FROM generate_series(1, 200000) i",
		"CREATE INDEX items_k ON items (k)", "ANALYZE items"}
	b.exec(setup...)
	for _, s := range setup {
		if _, err := conn.Exec(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	var tok struct{ Token string }
	b.api.must(http.StatusCreated, "POST", "/api/v1/agents", map[string]string{"name": "shadow-host"}).decode(t, &tok)
	testbed.StartAgent(t, bins, agentconfig.Config{Name: "shadow-host", Token: tok.Token, Servers: []string{b.srv.RPCAddr},
		Instances: []agentconfig.InstanceConfig{{ID: "shadow", Engine: domain.PostgreSQL, DSN: shadow.DSN("app")}}})
	b.api.must(http.StatusOK, "PUT", "/api/v1/databases/app", map[string]any{"name": "app", "type": "PostgreSQL", "environment": "Production",
		"instances": []map[string]string{{"agent": "pg-host", "instanceId": "main", "role": "Master"},
			{"agent": "shadow-host", "instanceId": "shadow", "role": "ShadowReplica"}}})
	eventually(t, 20*time.Second, "the shadow's agent", func() bool {
		v, ok := b.api.agent("shadow-host")
		return ok && v.Connected
	})
	return b, shadow
}

// workloadFile is what the application runs: point reads by k.
const workloadFile = `-- the checkout's item lookups
SELECT id FROM items WHERE k = 42;
SELECT id FROM items WHERE k = 4242;
SELECT pad FROM items WHERE k = 123456;`

// TestShadowBlocksASlowChange: dropping the index makes the replayed
// workload slower on the shadow; the rollout stops before the master and
// the shadow is rolled back.
func TestShadowBlocksASlowChange(t *testing.T) {
	b, _ := shadowBed(t)
	mig := b.migration("shadow_drop", "DROP INDEX items_k;", "CREATE INDEX IF NOT EXISTS items_k ON items (k);")
	body := map[string]any{"strategy": "Shadow", "shadow": map[string]any{"workload": workloadFile, "iterations": 10}}
	e := b.waitTerminal(mig, b.execute(mig, body), 90*time.Second)
	if e.Status != domain.ExecutionRolledBack || e.Shadow == nil || e.Shadow.Passed || !strings.Contains(e.Shadow.Verdict, "p95") {
		t.Fatalf("Shadow = %s, shadow %+v; want RolledBack with a failed p95 verdict\n%s", e.Status, e.Shadow, logText(e))
	}
	if b.query(`SELECT count(*) FROM pg_indexes WHERE indexname = 'items_k'`).(int64) != 1 {
		t.Error("the master lost its index: the rollout went past the shadow")
	}
}

// TestShadowLetsAHarmlessChangeThrough: an added column does not slow the
// workload; the rollout goes on to the master.
func TestShadowLetsAHarmlessChangeThrough(t *testing.T) {
	b, _ := shadowBed(t)
	mig := b.migration("shadow_add", "ALTER TABLE items ADD COLUMN note text;", "ALTER TABLE items DROP COLUMN IF EXISTS note;")
	body := map[string]any{"strategy": "Shadow", "shadow": map[string]any{"workload": workloadFile, "iterations": 10, "maxP95Factor": 3}}
	e := b.waitTerminal(mig, b.execute(mig, body), 90*time.Second)
	if e.Status != domain.ExecutionSucceeded || e.Shadow == nil || !e.Shadow.Passed || e.Shadow.Before == nil || e.Shadow.After == nil {
		t.Fatalf("Shadow = %s, shadow %+v; want Succeeded with a passing comparison\n%s", e.Status, e.Shadow, logText(e))
	}
	if !b.hasColumn("items", "note") {
		t.Error("the master did not get the change after the shadow passed")
	}
}

// TestShadowCapturesParameterisedWorkload: the application sends point
// reads with parameters, which pg_stat_statements keeps as "k = $1"; the
// capture gives them values sampled from the table, so the replay measures
// the real statement and the DROP INDEX stops at the shadow.
func TestShadowCapturesParameterisedWorkload(t *testing.T) {
	b, _ := shadowBed(t)
	stop := b.load(2, "SELECT id FROM items WHERE k = $1", func(i int) []any { return []any{i%200000 + 1} })
	eventually(t, 20*time.Second, "the point reads in pg_stat_statements", func() bool {
		return b.query(`SELECT count(*) FROM pg_stat_statements WHERE query = 'SELECT id FROM items WHERE k = $1' AND calls > 20`).(int64) == 1
	})
	stop()
	mig := b.migration("shadow_drop_captured", "DROP INDEX items_k;", "CREATE INDEX IF NOT EXISTS items_k ON items (k);")
	body := map[string]any{"strategy": "Shadow", "shadow": map[string]any{"iterations": 10}}
	e := b.waitTerminal(mig, b.execute(mig, body), 90*time.Second)
	logs := logText(e)
	if !strings.Contains(logs, "with parameter values sampled from their table") || !strings.Contains(logs, "of the instance's calls") {
		t.Errorf("the capture does not say what it sampled:\n%s", logs)
	}
	if e.Status != domain.ExecutionRolledBack || e.Shadow == nil || e.Shadow.Passed {
		t.Fatalf("Shadow = %s, shadow %+v; want RolledBack by the replay\n%s", e.Status, e.Shadow, logs)
	}
	found := false
	for _, s := range e.Shadow.Workload {
		found = found || strings.HasPrefix(s, "SELECT id FROM items WHERE k = '")
	}
	if !found {
		t.Errorf("captured workload = %q, want the point read with a sampled value", e.Shadow.Workload)
	}
	if b.query(`SELECT count(*) FROM pg_indexes WHERE indexname = 'items_k'`).(int64) != 1 {
		t.Error("the master lost its index: the rollout went past the shadow")
	}
	// A capture covering less of the calls than asked for is refused.
	strict := b.migration("shadow_strict", "DROP INDEX items_k;", "CREATE INDEX IF NOT EXISTS items_k ON items (k);")
	e = b.waitTerminal(strict, b.execute(strict, map[string]any{"strategy": "Shadow",
		"shadow": map[string]any{"iterations": 5, "minWorkloadShare": 1}}), 90*time.Second)
	if e.Status == domain.ExecutionSucceeded || !strings.Contains(logText(e)+e.ErrorMessage, "below the minimum 100%") {
		t.Errorf("Shadow with minWorkloadShare 1 = %s (%s), want it refused below the minimum\n%s", e.Status, e.ErrorMessage, logText(e))
	}
	if b.query(`SELECT count(*) FROM pg_indexes WHERE indexname = 'items_k'`).(int64) != 1 {
		t.Error("the master lost its index on a refused capture")
	}
}

// TestShadowRefusesAnEmptyCapture: nothing replayable ran on the master;
// the execution stops before the primary, saying why.
func TestShadowRefusesAnEmptyCapture(t *testing.T) {
	b, _ := shadowBed(t)
	b.exec("SELECT pg_stat_statements_reset()")
	mig := b.migration("shadow_empty", "DROP INDEX items_k;", "CREATE INDEX IF NOT EXISTS items_k ON items (k);")
	e := b.waitTerminal(mig, b.execute(mig, map[string]any{"strategy": "Shadow", "shadow": map[string]any{"iterations": 5}}), 90*time.Second)
	why := logText(e) + e.ErrorMessage
	if e.Status == domain.ExecutionSucceeded || !(strings.Contains(why, "no replayable read statement was captured") || strings.Contains(why, "below the minimum")) {
		t.Fatalf("Shadow on an empty capture = %s (%s), want it refused saying why\n%s", e.Status, e.ErrorMessage, logText(e))
	}
	if b.query(`SELECT count(*) FROM pg_indexes WHERE indexname = 'items_k'`).(int64) != 1 {
		t.Error("the master lost its index on an empty capture")
	}
}
