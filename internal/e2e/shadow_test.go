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
