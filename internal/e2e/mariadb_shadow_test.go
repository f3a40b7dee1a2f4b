package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// historyOn keeps the last statements' texts, which the capture reads.
var historyOn = map[string]string{"performance-schema-consumer-events-statements-history-long": "ON"}

// mariaShadowBed is database "shop" on a MariaDB primary (Master) with a
// second server as its ShadowReplica, both holding 200 000 items indexed
// by k, and one agent serving both.
func mariaShadowBed(t *testing.T) *mariaBed {
	t.Helper()
	m := &mariaBed{primary: testbed.StartMariaDB(t, testbed.MariaDBOptions{Settings: historyOn})}
	shadow := testbed.StartMariaDB(t, testbed.MariaDBOptions{Settings: historyOn})
	srv := testbed.StartServer(t, bins, testbed.ServerOptions{})
	m.b = &bed{t: t, srv: srv, api: newAPI(t, srv, token(t, srv), nil)}
	var tok struct{ Token string }
	eventually(t, 10*time.Second, "agent token", func() bool {
		r := m.b.api.do("POST", "/api/v1/agents", map[string]string{"name": "maria-host"})
		if r.Status == http.StatusCreated {
			r.decode(t, &tok)
		}
		return r.Status == http.StatusCreated
	})
	m.b.agent = testbed.StartAgent(t, bins, agentconfig.Config{Name: "maria-host", Token: tok.Token, Servers: []string{srv.RPCAddr},
		Instances: []agentconfig.InstanceConfig{{ID: "primary", Engine: domain.MySQL, DSN: m.primary.DSN(testbed.MariaDBDatabase)},
			{ID: "shadow", Engine: domain.MySQL, DSN: shadow.DSN(testbed.MariaDBDatabase)}}})
	m.b.api.must(http.StatusCreated, "POST", "/api/v1/databases", map[string]any{"name": "shop", "type": "MySQL",
		"environment": "Production", "instances": []map[string]string{{"agent": "maria-host", "instanceId": "primary", "role": "Master"},
			{"agent": "maria-host", "instanceId": "shadow", "role": "ShadowReplica"}}})
	eventually(t, 20*time.Second, "the agent to connect", func() bool {
		v, ok := m.b.api.agent("maria-host")
		return ok && v.Connected
	})
	setup := []string{"CREATE TABLE items (id int PRIMARY KEY, k int, pad varchar(60), KEY items_k (k))",
		"INSERT INTO items SELECT seq, seq, REPEAT('x', 50) FROM seq_1_to_200000", "ANALYZE TABLE items"}
	for _, s := range []*testbed.MariaDB{m.primary, shadow} {
		db := mariaDB(t, s)
		for _, stmt := range setup {
			if _, err := db.ExecContext(t.Context(), stmt); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
	}
	return m
}

// pointReads runs the application's reads on the primary, with their
// values written in the text as most applications' drivers send them.
func (m *mariaBed) pointReads(t *testing.T, n int) {
	t.Helper()
	db := mariaDB(t, m.primary)
	for i := range n {
		q := fmt.Sprintf("SELECT id FROM items WHERE k = %d", 1+i%3*7919)
		if i%4 == 0 {
			q = fmt.Sprintf("SELECT pad FROM items WHERE k = %d", 1+i%5*104729)
		}
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// hasIndex reports whether server s has index items_k.
func hasIndex(t *testing.T, s *testbed.MariaDB) bool {
	t.Helper()
	var n int
	err := mariaDB(t, s).QueryRowContext(t.Context(), `SELECT count(*) FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = 'app' AND TABLE_NAME = 'items' AND INDEX_NAME = 'items_k'`).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// TestMariaDBShadow: the agent captures the primary's point reads from
// performance_schema and replays them on the shadow before and after each
// change. An added column passes and reaches the primary; a dropped index
// makes the reads slower and a dropped column makes one fail: both stop at
// the shadow, which is rolled back, and the verdict says why.
func TestMariaDBShadow(t *testing.T) {
	m := mariaShadowBed(t)
	m.pointReads(t, 400)
	shadow := map[string]any{"strategy": "Shadow", "shadow": map[string]any{"iterations": 10, "maxP95Factor": 3}}
	add := m.migration("shadow_add", "Shadow", "ALTER TABLE items ADD COLUMN note varchar(20)", "ALTER TABLE items DROP COLUMN note")
	e := m.b.waitTerminal(add, m.b.execute(add, shadow), 120*time.Second)
	logs := logText(e)
	if e.Status != domain.ExecutionSucceeded || e.Shadow == nil || !e.Shadow.Passed || e.Shadow.Before == nil || e.Shadow.After == nil {
		t.Fatalf("harmless change = %s, shadow %+v; want Succeeded with a passing comparison\n%s", e.Status, e.Shadow, logs)
	}
	if !strings.Contains(logs, "events_statements_history_long") || !slices.Contains(e.Shadow.Workload, "SELECT id FROM items WHERE k = 7920") {
		t.Errorf("captured %q; want the point reads as run, from the statement history\n%s", e.Shadow.Workload, logs)
	}
	if !hasColumn(t, m.primary, "items", "note") {
		t.Error("the primary did not get the change after the shadow passed")
	}

	drop := m.migration("shadow_drop_index", "Shadow", "ALTER TABLE items DROP INDEX items_k", "ALTER TABLE items ADD INDEX items_k (k)")
	e = m.b.waitTerminal(drop, m.b.execute(drop, shadow), 120*time.Second)
	if e.Status != domain.ExecutionRolledBack || e.Shadow == nil || e.Shadow.Passed || !strings.Contains(e.Shadow.Verdict, "over the 3x limit") {
		t.Fatalf("dropped index = %s, shadow %+v; want RolledBack with a p95 over the limit\n%s", e.Status, e.Shadow, logText(e))
	}
	if !hasIndex(t, m.primary) {
		t.Error("the primary lost its index: the rollout went past the shadow")
	}

	var mig struct{ MigrationID string }
	m.b.api.must(http.StatusCreated, "POST", "/api/v1/migrations", map[string]any{"name": "shadow_drop_column", "targetDatabaseId": "shop",
		"strategy": "Shadow", "riskLevel": "High", "migrationScript": "ALTER TABLE items DROP COLUMN pad",
		"rollbackScript": "ALTER TABLE items ADD COLUMN pad varchar(60)"}).decode(t, &mig)
	cut := mig.MigrationID
	e = m.b.waitTerminal(cut, m.b.execute(cut, shadow), 120*time.Second)
	if e.Status != domain.ExecutionRolledBack || e.Shadow == nil || e.Shadow.Passed ||
		!strings.Contains(e.Shadow.Verdict, "failed after the change, none before") ||
		e.Shadow.After == nil || !strings.Contains(e.Shadow.After.FirstError, "pad") {
		t.Fatalf("dropped column = %s, shadow %+v; want RolledBack, the verdict naming the failing read\n%s", e.Status, e.Shadow, logText(e))
	}
	if !hasColumn(t, m.primary, "items", "pad") {
		t.Error("the primary lost column pad: the rollout went past the shadow")
	}
}
