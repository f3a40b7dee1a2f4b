package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// fleetBed is a control plane, one PostgreSQL server holding n databases
// (tenants), one agent serving them all, each registered with labels.
type fleetBed struct {
	t   *testing.T
	pg  *testbed.Postgres
	api *api
	n   int
}

func newFleetBed(t *testing.T, n int) *fleetBed {
	pg := testbed.StartPostgres(t, testbed.PostgresOptions{Settings: map[string]string{"max_connections": "400"}})
	srv := testbed.StartServer(t, bins, testbed.ServerOptions{Args: []string{"--max-concurrent-executions", "4"}})
	f := &fleetBed{t: t, pg: pg, api: newAPI(t, srv, token(t, srv), nil), n: n}
	var tok struct{ Token string }
	eventually(t, 10*time.Second, "agent token", func() bool {
		r := f.api.do("POST", "/api/v1/agents", map[string]string{"name": "tenant-host"})
		if r.Status == http.StatusCreated {
			r.decode(t, &tok)
		}
		return r.Status == http.StatusCreated
	})
	cfg := agentconfig.Config{Name: "tenant-host", Token: tok.Token, Servers: []string{srv.RPCAddr}, SampleInterval: 5 * time.Second}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("tenant%02d", i)
		f.exec("app", "CREATE DATABASE "+name)
		f.exec(name, "CREATE TABLE invoices (id int PRIMARY KEY, total int)")
		cfg.Instances = append(cfg.Instances, agentconfig.InstanceConfig{ID: name, Engine: domain.PostgreSQL, DSN: pg.DSN(name)})
		service := "billing"
		if i >= n-2 {
			service = "search" // not selected
		}
		f.api.must(http.StatusCreated, "POST", "/api/v1/databases", map[string]any{"name": name, "type": "PostgreSQL",
			"environment": "Production", "labels": map[string]string{"env": "prod", "service": service},
			"instances": []map[string]string{{"agent": "tenant-host", "instanceId": name, "role": "Master"}}})
	}
	testbed.StartAgent(t, bins, cfg)
	eventually(t, 30*time.Second, "the agent to connect", func() bool {
		v, ok := f.api.agent("tenant-host")
		return ok && v.Connected
	})
	return f
}

func (f *fleetBed) exec(db, sql string) {
	f.t.Helper()
	conn, err := pgx.Connect(context.Background(), f.pg.DSN(db))
	if err != nil {
		f.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		f.t.Fatalf("%s on %s: %v", sql, db, err)
	}
}

func (f *fleetBed) hasColumn(db, column string) bool {
	conn, err := pgx.Connect(context.Background(), f.pg.DSN(db))
	if err != nil {
		f.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	_ = conn.QueryRow(context.Background(), `SELECT count(*) FROM information_schema.columns WHERE table_name = 'invoices' AND column_name = $1`, column).Scan(&n)
	return n == 1
}

func (f *fleetBed) rollout(name, up, down string) (string, domain.Execution) {
	f.t.Helper()
	var m struct{ MigrationID string }
	f.api.must(http.StatusCreated, "POST", "/api/v1/migrations", map[string]any{"name": name, "targetDatabaseId": "tenant00",
		"strategy": "Canary", "migrationScript": up, "rollbackScript": down}).decode(f.t, &m)
	var r struct{ ExecutionID string }
	f.api.must(http.StatusAccepted, "POST", "/api/v1/migrations/"+m.MigrationID+"/execute", map[string]any{"strategy": "Canary",
		"selector": map[string]string{"env": "prod", "service": "billing"}}).decode(f.t, &r)
	var e domain.Execution
	eventually(f.t, 90*time.Second, "the rollout to finish", func() bool {
		f.api.must(http.StatusOK, "GET", "/api/v1/migrations/"+m.MigrationID+"/executions/"+r.ExecutionID, nil).decode(f.t, &e)
		return e.Status.Terminal()
	})
	return m.MigrationID, e
}

func TestFleetCanary(t *testing.T) {
	f := newFleetBed(t, 12)
	_, e := f.rollout("add_currency", "ALTER TABLE invoices ADD COLUMN currency text;", "ALTER TABLE invoices DROP COLUMN IF EXISTS currency;")
	if e.Status != domain.ExecutionSucceeded || e.Fleet == nil {
		t.Fatalf("rollout = %s, want Succeeded\n%s", e.Status, logText(e))
	}
	if sizes := fmt.Sprint(len(e.Fleet.Waves[0]), len(e.Fleet.Waves[1]), len(e.Fleet.Waves[2])); sizes != "1 4 5" {
		t.Errorf("waves = %s, want 1 4 5 of the 10 selected databases", sizes)
	}
	for i := 0; i < f.n; i++ {
		name := fmt.Sprintf("tenant%02d", i)
		if want := i < f.n-2; f.hasColumn(name, "currency") != want {
			t.Errorf("%s has the column = %v, want %v (selected: %v)", name, !want, want, want)
		}
	}
}

// TestFleetFailureRollsBackTheRollout: a database of the second wave fails;
// the rollout stops, rolls back every database it changed, and the third
// wave never starts.
func TestFleetFailureRollsBackTheRollout(t *testing.T) {
	f := newFleetBed(t, 12)
	// The second wave holds tenant01..tenant04 (in registration order).
	f.exec("tenant03", "ALTER TABLE invoices ADD COLUMN region text")
	mig, e := f.rollout("add_region", "ALTER TABLE invoices ADD COLUMN region text;", "ALTER TABLE invoices DROP COLUMN IF EXISTS region;")
	if e.Status != domain.ExecutionRolledBack || !strings.Contains(e.RollbackReason, "wave 2") {
		t.Fatalf("rollout = %s (%q), want RolledBack for wave 2\n%s", e.Status, e.RollbackReason, logText(e))
	}
	changed := 0
	for i := 0; i < f.n; i++ {
		name := fmt.Sprintf("tenant%02d", i)
		if name != "tenant03" && f.hasColumn(name, "region") {
			changed++
			t.Errorf("%s still has the column after the rollback", name)
		}
	}
	var list struct{ Executions []domain.Execution }
	f.api.must(http.StatusOK, "GET", "/api/v1/migrations/"+mig+"/executions", nil).decode(t, &list)
	children := 0
	for _, c := range list.Executions {
		if c.ParentID == e.ExecutionID {
			children++
		}
	}
	if children != 5 {
		t.Errorf("the rollout made %d executions, want 5 (waves 1 and 2 only)", children)
	}
}
