package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// newMariaFleetBed is fleetBed's MariaDB twin: one server holding n
// databases (schemas), one agent serving them all, each registered as a
// MySQL database with labels; the last two are not selected.
func newMariaFleetBed(t *testing.T, n int) (*fleetBed, *testbed.MariaDB) {
	m := testbed.StartMariaDB(t, testbed.MariaDBOptions{})
	srv := testbed.StartServer(t, bins, testbed.ServerOptions{Args: []string{"--max-concurrent-executions", "4"}})
	f := &fleetBed{t: t, api: newAPI(t, srv, token(t, srv), nil), n: n}
	var tok struct{ Token string }
	eventually(t, 10*time.Second, "agent token", func() bool {
		r := f.api.do("POST", "/api/v1/agents", map[string]string{"name": "maria-tenants"})
		if r.Status == http.StatusCreated {
			r.decode(t, &tok)
		}
		return r.Status == http.StatusCreated
	})
	cfg := agentconfig.Config{Name: "maria-tenants", Token: tok.Token, Servers: []string{srv.RPCAddr}, SampleInterval: 5 * time.Second}
	admin := mariaDB(t, m)
	for i := range n {
		name := fmt.Sprintf("tenant%02d", i)
		for _, s := range []string{"CREATE DATABASE " + name, "CREATE TABLE " + name + ".invoices (id int PRIMARY KEY, total int)"} {
			if _, err := admin.ExecContext(t.Context(), s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		cfg.Instances = append(cfg.Instances, agentconfig.InstanceConfig{ID: name, Engine: domain.MySQL, DSN: m.DSN(name)})
		service := "billing"
		if i >= n-2 {
			service = "search"
		}
		f.api.must(http.StatusCreated, "POST", "/api/v1/databases", map[string]any{"name": name, "type": "MySQL",
			"environment": "Production", "labels": map[string]string{"env": "prod", "service": service},
			"instances": []map[string]string{{"agent": "maria-tenants", "instanceId": name, "role": "Master"}}})
	}
	testbed.StartAgent(t, bins, cfg)
	eventually(t, 30*time.Second, "the agent to connect", func() bool {
		v, ok := f.api.agent("maria-tenants")
		return ok && v.Connected
	})
	return f, m
}

// TestMariaDBFleetFailureRollsBackTheRollout: a Canary over 10 selected
// MariaDB databases (of 12) where one database of the second wave fails:
// the rollout stops, rolls back every database it changed, and the third
// wave never starts; the history shows no step on the third wave's
// databases.
func TestMariaDBFleetFailureRollsBackTheRollout(t *testing.T) {
	f, m := newMariaFleetBed(t, 12)
	admin := mariaDB(t, m)
	// The second wave holds tenant01..tenant04 (in registration order).
	if _, err := admin.ExecContext(t.Context(), "ALTER TABLE tenant03.invoices ADD COLUMN region text"); err != nil {
		t.Fatal(err)
	}
	mig, e := f.rollout("add_region", "ALTER TABLE invoices ADD COLUMN region text;", "ALTER TABLE invoices DROP COLUMN IF EXISTS region;")
	if e.Status != domain.ExecutionRolledBack || !strings.Contains(e.RollbackReason, "wave 2") {
		t.Fatalf("rollout = %s (%q), want RolledBack for wave 2\n%s", e.Status, e.RollbackReason, logText(e))
	}
	for i := range f.n {
		name := fmt.Sprintf("tenant%02d", i)
		var cols int
		err := admin.QueryRowContext(t.Context(), `SELECT count(*) FROM information_schema.COLUMNS
			WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'invoices' AND COLUMN_NAME = 'region'`, name).Scan(&cols)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 1, false: 0}[name == "tenant03"]; cols != want {
			t.Errorf("%s has %d region columns after the rollback, want %d", name, cols, want)
		}
	}
	var list struct{ Executions []domain.Execution }
	f.api.must(http.StatusOK, "GET", "/api/v1/migrations/"+mig+"/executions", nil).decode(t, &list)
	var children []string
	for _, c := range list.Executions {
		if c.ParentID == e.ExecutionID {
			children = append(children, c.ExecutionID)
		}
	}
	if len(children) != 5 {
		t.Errorf("the rollout made %d executions, want 5 (waves 1 and 2 only)", len(children))
	}
	// Only the rollout's five executions (waves 1 and 2) wrote history.
	rows, err := admin.QueryContext(t.Context(), "SELECT DISTINCT execution_id FROM hotswap.schema_history")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		n++
		if !strings.Contains(strings.Join(children, " "), id) {
			t.Errorf("history holds execution %s, not one of the rollout's waves 1 and 2: %v", id, children)
		}
	}
	if n == 0 || rows.Err() != nil {
		t.Errorf("history holds %d executions (%v), want the applied ones of waves 1 and 2", n, rows.Err())
	}
}
