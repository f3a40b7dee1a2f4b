package e2e

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// blueGreenBed is blue (the primary of newBed), green (a clone), PgBouncer in
// front of blue, and an agent managing green and the bouncer.
type blueGreenBed struct {
	*bed
	green   *testbed.Postgres
	bouncer *testbed.PgBouncer
	shared  bool // green's password was set to blue's
}

func newBlueGreenBed(t *testing.T) *blueGreenBed {
	b := newBed(t)
	g := &blueGreenBed{bed: b, green: testbed.StartPostgres(t, testbed.PostgresOptions{})}
	b.exec("CREATE TABLE whoami (name text)", "INSERT INTO whoami VALUES ('blue')")
	// The bouncer logs in to either server with the same credentials.
	g.execGreen("ALTER ROLE " + testbed.PostgresUser + " PASSWORD '" + b.pg.Password() + "'")
	g.shared = true
	g.execGreen("CREATE TABLE accounts (id serial PRIMARY KEY, balance int NOT NULL DEFAULT 0)",
		"INSERT INTO accounts (balance) SELECT g FROM generate_series(1, 1000) g",
		"CREATE TABLE whoami (name text)", "INSERT INTO whoami VALUES ('green')")
	g.bouncer = testbed.StartPgBouncer(t, testbed.PgBouncerOptions{Database: "app", Target: b.pg})
	var tok struct{ Token string }
	b.api.must(http.StatusCreated, "POST", "/api/v1/agents", map[string]string{"name": "pool-host"}).decode(t, &tok)
	testbed.StartAgent(t, bins, agentconfig.Config{Name: "pool-host", Token: tok.Token, Servers: []string{b.srv.RPCAddr},
		Instances: []agentconfig.InstanceConfig{{ID: "green", Engine: domain.PostgreSQL, DSN: g.greenDSN()}},
		Poolers: []agentconfig.PoolerConfig{{ID: "bouncer", AdminDSN: g.bouncer.AdminDSN(), ConfigFile: g.bouncer.ConfigPath(), Database: "app",
			Targets: map[string]agentconfig.PoolerTarget{
				"main":  {Host: "127.0.0.1", Port: b.pg.Port(), DBName: "app"},
				"green": {Host: "127.0.0.1", Port: g.green.Port(), DBName: "app"},
			}}}})
	b.api.must(http.StatusOK, "PUT", "/api/v1/databases/app", map[string]any{"name": "app", "type": "PostgreSQL", "environment": "Production",
		"instances": []map[string]string{{"agent": "pg-host", "instanceId": "main", "role": "Master"},
			{"agent": "pool-host", "instanceId": "green", "role": "AsyncReplica"}}})
	eventually(t, 20*time.Second, "the pool host's agent", func() bool {
		v, ok := b.api.agent("pool-host")
		return ok && v.Connected
	})
	return g
}

// greenDSN logs in to green with the password it shares with blue once
// the first statement of newBlueGreenBed ran (the green's own before).
func (g *blueGreenBed) greenDSN() string {
	if !g.shared {
		return g.green.DSN("app")
	}
	return strings.Replace(g.green.DSN("app"), ":"+g.green.Password()+"@", ":"+g.bed.pg.Password()+"@", 1)
}

func (g *blueGreenBed) execGreen(stmts ...string) {
	conn, err := pgx.Connect(context.Background(), g.greenDSN())
	if err != nil {
		g.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, s := range stmts {
		if _, err := conn.Exec(context.Background(), s); err != nil {
			g.t.Fatalf("%s: %v", s, err)
		}
	}
}

// clients query through the bouncer until stop, counting errors and
// remembering which server answered last.
type clients struct {
	errors  atomic.Int64
	queries atomic.Int64
	last    atomic.Value
	stop    func()
}

func (g *blueGreenBed) startClients(n int) *clients {
	c := &clients{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := pgx.Connect(ctx, g.bouncer.DSN()+"&default_query_exec_mode=simple_protocol")
			if err != nil {
				c.errors.Add(1)
				return
			}
			defer conn.Close(context.Background())
			for ctx.Err() == nil {
				var name string
				if err := conn.QueryRow(ctx, "SELECT name FROM whoami").Scan(&name); err != nil && ctx.Err() == nil {
					c.errors.Add(1)
					continue
				}
				c.queries.Add(1)
				c.last.Store(name)
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	c.stop = func() { cancel(); wg.Wait() }
	g.t.Cleanup(c.stop)
	return c
}

func (c *clients) answer() string { s, _ := c.last.Load().(string); return s }

func TestBlueGreenSwitchAndBack(t *testing.T) {
	g := newBlueGreenBed(t)
	c := g.startClients(4)
	eventually(t, 10*time.Second, "clients on blue", func() bool { return c.answer() == "blue" })
	mig := g.migration("bg_col", "ALTER TABLE accounts ADD COLUMN bg int;", "ALTER TABLE accounts DROP COLUMN IF EXISTS bg;")
	var shown struct{ Plan domain.Plan }
	g.api.must(http.StatusOK, "GET", "/api/v1/migrations/"+mig+"/plan?strategy=BlueGreen&green=pool-host/green&pooler=pool-host/bouncer", nil).decode(t, &shown)
	if n := len(shown.Plan.Steps); n != 2 || shown.Plan.Steps[n-1].Kind != domain.StepSwitch {
		t.Errorf("BlueGreen plan = %+v, want apply on green then the switch", shown.Plan.Steps)
	}
	g.api.must(http.StatusBadRequest, "GET", "/api/v1/migrations/"+mig+"/plan?strategy=BlueGreen&green=pool-host/green&pooler=pool-host/nosuch", nil)
	body := monitored(map[string]any{"monitorWindowSeconds": 2})
	body["strategy"] = "BlueGreen"
	body["blueGreen"] = map[string]string{"green": "pool-host/green", "pooler": "pool-host/bouncer"}
	e := g.waitTerminal(mig, g.execute(mig, body), 60*time.Second)
	if e.Status != domain.ExecutionSucceeded {
		t.Fatalf("BlueGreen = %s\n%s", e.Status, logText(e))
	}
	eventually(t, 10*time.Second, "clients on green", func() bool { return c.answer() == "green" })
	if !g.hasColumnGreen("bg") || g.hasColumn("accounts", "bg") {
		t.Errorf("green has the column = %v, blue = %v; want green only", g.hasColumnGreen("bg"), g.hasColumn("accounts", "bg"))
	}

	g.wantRoles(map[string]domain.InstanceRole{"pool-host/green": domain.RoleMaster, "pg-host/main": domain.RoleAsyncReplica})
	var plan struct{ Plan domain.Plan }
	g.api.must(http.StatusOK, "GET", "/api/v1/migrations/"+mig+"/plan?strategy=Direct", nil).decode(t, &plan)
	if len(plan.Plan.Steps) != 1 || plan.Plan.Steps[0].Agent != "pool-host" || plan.Plan.Steps[0].InstanceID != "green" {
		t.Errorf("Direct plan after the switch = %+v, want green only", plan.Plan.Steps)
	}
	back := "/api/v1/migrations/" + mig + "/executions/" + e.ExecutionID + "/rollback"
	if r := g.api.must(http.StatusBadRequest, "POST", back, map[string]string{"reason": "back to blue"}); !strings.Contains(string(r.Body), "not on blue") {
		t.Errorf("unconfirmed switch back = %s, want it to say what is lost", r.Body)
	}
	var rb struct{ Status string }
	g.api.must(http.StatusOK, "POST", back, map[string]any{"reason": "back to blue", "confirm": true}).decode(t, &rb)
	if rb.Status != "RolledBack" {
		t.Fatalf("rollback = %s\n%s", rb.Status, logText(g.execution(mig, e.ExecutionID)))
	}
	eventually(t, 10*time.Second, "clients back on blue", func() bool { return c.answer() == "blue" })
	if g.hasColumnGreen("bg") {
		t.Error("green kept the column after the rollback")
	}
	g.wantRoles(map[string]domain.InstanceRole{"pg-host/main": domain.RoleMaster, "pool-host/green": domain.RoleAsyncReplica})
	time.Sleep(200 * time.Millisecond)
	c.stop()
	if n := c.errors.Load(); n != 0 {
		t.Errorf("%d client errors during the switches, want none (of %d queries)", n, c.queries.Load())
	}
	if !strings.Contains(logText(g.execution(mig, e.ExecutionID)), "switch") {
		t.Error("the log does not show the switches")
	}
}

// wantRoles checks the registered roles of the database app.
func (g *blueGreenBed) wantRoles(want map[string]domain.InstanceRole) {
	g.t.Helper()
	var db domain.Database
	g.api.must(http.StatusOK, "GET", "/api/v1/databases/app", nil).decode(g.t, &db)
	for _, in := range db.Instances {
		if r, ok := want[in.Agent+"/"+in.InstanceID]; ok && r != in.Role {
			g.t.Errorf("role of %s/%s = %s, want %s", in.Agent, in.InstanceID, in.Role, r)
		}
	}
}

// TestBlueGreenTwiceThenRollBack: two BlueGreen rollouts in a row, then
// the rollback of the second. The roles follow the traffic, so the second
// one changes the former blue (re-seeded) and the rollback sends the
// clients back to green, which has the first change: no client ever sees a
// schema older than the last succeeded migration.
func TestBlueGreenTwiceThenRollBack(t *testing.T) {
	g := newBlueGreenBed(t)
	c := g.startClients(4)
	eventually(t, 10*time.Second, "clients on blue", func() bool { return c.answer() == "blue" })
	run := func(name, green string) domain.Execution {
		mig := g.migration(name, "ALTER TABLE accounts ADD COLUMN "+name+" int;", "ALTER TABLE accounts DROP COLUMN IF EXISTS "+name+";")
		// The latency guard is not under test: a wide margin keeps the
		// idle instance's noise from rolling back.
		body := monitored(map[string]any{"monitorWindowSeconds": 2, "thresholds": map[string]any{"minLatencyDeltaMs": 50}})
		body["strategy"] = "BlueGreen"
		body["blueGreen"] = map[string]string{"green": green, "pooler": "pool-host/bouncer"}
		e := g.waitTerminal(mig, g.execute(mig, body), 60*time.Second)
		if e.Status != domain.ExecutionSucceeded {
			t.Fatalf("BlueGreen %s = %s\n%s", name, e.Status, logText(e))
		}
		return e
	}
	// A wrong pooler is refused before anything changes.
	bad := g.migration("bg_nosuch", "ALTER TABLE accounts ADD COLUMN nosuch int;", "ALTER TABLE accounts DROP COLUMN IF EXISTS nosuch;")
	r := g.api.must(http.StatusBadRequest, "POST", "/api/v1/migrations/"+bad+"/execute", map[string]any{"strategy": "BlueGreen",
		"blueGreen": map[string]string{"green": "pool-host/green", "pooler": "pool-host/nosuch"}})
	if !strings.Contains(string(r.Body), `no pooler \"nosuch\"`) || !strings.Contains(string(r.Body), "bouncer") {
		t.Errorf("wrong pooler = %s, want a refusal naming it and the pooler the agent reports", r.Body)
	}
	if g.hasColumnGreen("nosuch") {
		t.Error("the refused rollout changed green")
	}
	run("bg1", "pool-host/green")
	eventually(t, 10*time.Second, "clients on green", func() bool { return c.answer() == "green" })
	// Green serves the traffic now: it cannot be the next green.
	mig := g.migration("bg_refused", "ALTER TABLE accounts ADD COLUMN refused int;", "ALTER TABLE accounts DROP COLUMN IF EXISTS refused;")
	r = g.api.must(http.StatusBadRequest, "POST", "/api/v1/migrations/"+mig+"/execute", map[string]any{"strategy": "BlueGreen",
		"blueGreen": map[string]string{"green": "pool-host/green", "pooler": "pool-host/bouncer"}})
	if !strings.Contains(string(r.Body), "pool-host/green") || !strings.Contains(string(r.Body), "serves the traffic") {
		t.Errorf("BlueGreen onto the serving instance = %s, want a refusal naming it", r.Body)
	}
	if g.hasColumnGreen("refused") {
		t.Error("the refused rollout changed green")
	}
	// The documented step: re-seed the former blue from green (here, its
	// one missing change) before naming it the next green.
	g.exec("ALTER TABLE accounts ADD COLUMN bg1 int")
	e2 := run("bg2", "pg-host/main")
	eventually(t, 10*time.Second, "clients on the former blue", func() bool { return c.answer() == "blue" })
	g.wantRoles(map[string]domain.InstanceRole{"pg-host/main": domain.RoleMaster, "pool-host/green": domain.RoleAsyncReplica})
	if !g.hasColumn("accounts", "bg2") || g.hasColumnGreen("bg2") {
		t.Errorf("bg2 on the former blue = %v, on green = %v; want the former blue only", g.hasColumn("accounts", "bg2"), g.hasColumnGreen("bg2"))
	}
	var rb struct{ Status string }
	g.api.must(http.StatusOK, "POST", "/api/v1/migrations/"+e2.MigrationID+"/executions/"+e2.ExecutionID+"/rollback",
		map[string]any{"reason": "undo bg2", "confirm": true}).decode(t, &rb)
	if rb.Status != "RolledBack" {
		t.Fatalf("rollback of bg2 = %s\n%s", rb.Status, logText(g.execution(e2.MigrationID, e2.ExecutionID)))
	}
	eventually(t, 10*time.Second, "clients back on green", func() bool { return c.answer() == "green" })
	if !g.hasColumnGreen("bg1") {
		t.Error("the clients are back on a server without the succeeded migration bg1")
	}
	g.wantRoles(map[string]domain.InstanceRole{"pool-host/green": domain.RoleMaster, "pg-host/main": domain.RoleAsyncReplica})
	c.stop()
	if n := c.errors.Load(); n != 0 {
		t.Errorf("%d client errors during the switches, want none (of %d queries)", n, c.queries.Load())
	}
}

func (g *blueGreenBed) hasColumnGreen(column string) bool {
	conn, err := pgx.Connect(context.Background(), g.greenDSN())
	if err != nil {
		g.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	_ = conn.QueryRow(context.Background(), `SELECT count(*) FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = $1`, column).Scan(&n)
	return n == 1
}

// TestBlueGreenSwitchesBackOnDegradation: green misses an index the
// workload needs; after the switch its latency jumps, the leader rolls back
// and the clients are back on blue, without an error.
func TestBlueGreenSwitchesBackOnDegradation(t *testing.T) {
	g := newBlueGreenBed(t)
	for _, exec := range []func(...string){g.exec, g.execGreen} {
		exec("CREATE TABLE items (id int, k int, pad text)",
			"INSERT INTO items SELECT i, i, repeat('x', 50) FROM generate_series(1, 200000) i",
			"CREATE INDEX items_k ON items (k)", "ANALYZE items")
	}
	c := g.startClients(2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := 0; i < 2; i++ {
		go func(i int) {
			conn, err := pgx.Connect(ctx, g.bouncer.DSN()+"&default_query_exec_mode=simple_protocol")
			if err != nil {
				return
			}
			defer conn.Close(context.Background())
			for n := i; ctx.Err() == nil; n += 2 {
				_, _ = conn.Exec(ctx, "SELECT id FROM items WHERE k = $1", n%200000+1)
			}
		}(i)
	}
	g.waitBaseline()
	mig := g.migration("bg_drop_index", "DROP INDEX items_k;", "CREATE INDEX IF NOT EXISTS items_k ON items (k);")
	body := monitored(map[string]any{"monitorWindowSeconds": 15})
	body["strategy"] = "BlueGreen"
	body["blueGreen"] = map[string]string{"green": "pool-host/green", "pooler": "pool-host/bouncer"}
	e := g.waitTerminal(mig, g.execute(mig, body), 90*time.Second)
	if e.Status != domain.ExecutionRolledBack || !strings.Contains(e.RollbackReason, "latency") {
		t.Fatalf("BlueGreen = %s (%q), want RolledBack for latency\n%s", e.Status, e.RollbackReason, logText(e))
	}
	t.Logf("rollback reason: %s", e.RollbackReason)
	if !strings.Contains(e.RollbackReason, "slower: statement") || !strings.Contains(e.RollbackReason, "blue pg-host/main's baseline") {
		t.Errorf("rollback reason %q, want the slower statement judged against blue pg-host/main's baseline", e.RollbackReason)
	}
	if log := logText(e); !strings.Contains(log, "watching green pool-host/green") || !strings.Contains(log, "judged against blue pg-host/main's baseline") {
		t.Errorf("the log does not say green was watched and judged against blue's baseline:\n%s", log)
	}
	eventually(t, 10*time.Second, "clients back on blue", func() bool { return c.answer() == "blue" })
	cancel()
	c.stop()
	if n := c.errors.Load(); n != 0 {
		t.Errorf("%d client errors, want none", n)
	}
	if len(e.Decisions) != 1 || e.Decisions[0].DecidedBy != "leader" {
		t.Errorf("decisions = %+v, want one by the leader", e.Decisions)
	}
}
