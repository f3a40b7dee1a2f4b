package e2e

import (
	"context"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	wire "github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// readmeRoleSQL is the README's block of statements that set up the
// agent's database role.
func readmeRoleSQL(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "### The database role")
	block := regexp.MustCompile("(?s)```sql\n(.*?)```").FindStringSubmatch(after)
	if !ok || block == nil {
		t.Fatal("README has no sql block under \"### The database role\"")
	}
	var stmts []string
	for _, line := range strings.Split(block[1], "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "--") {
			stmts = append(stmts, strings.TrimSuffix(line, ";"))
		}
	}
	return stmts
}

// roleSetup is the README's statements for role on database, with its
// password; without monitor, the pg_monitor grant is left out. The
// statements on a schema or the extension run in database, the others on
// the server's first database.
func roleSetup(stmts []string, role, password, database string, monitor bool) (server, inDB []string) {
	word := regexp.MustCompile(`\bhotswap_agent\b`)
	for _, s := range stmts {
		if !monitor && strings.Contains(s, "pg_monitor") {
			continue
		}
		s = word.ReplaceAllString(s, role)
		s = strings.ReplaceAll(s, "CHANGE-ME", password)
		s = strings.ReplaceAll(s, "DATABASE app", "DATABASE "+database)
		if strings.HasPrefix(s, "CREATE EXTENSION") || strings.Contains(s, " ON SCHEMA ") {
			inDB = append(inDB, s)
		} else {
			server = append(server, s)
		}
	}
	return server, inDB
}

// withoutExtension leaves CREATE EXTENSION out of stmts.
func withoutExtension(stmts []string) []string {
	var out []string
	for _, s := range stmts {
		if !strings.HasPrefix(s, "CREATE EXTENSION") {
			out = append(out, s)
		}
	}
	return out
}

// preflightBed is a server and an agent serving three databases, each
// under a role set up differently.
type preflightBed struct {
	t     *testing.T
	pg    *testbed.Postgres
	agent *testbed.Agent
	api   *api
}

// TestPreflightWithReadmeRole sets up the agent's role exactly as the
// README says and runs a migration with it; a role without pg_monitor is
// warned about once and its execution refused unless accepted; a database
// without pg_stat_statements gets an execution whose log says the latency
// rule is disabled.
func TestPreflightWithReadmeRole(t *testing.T) {
	// One test, no subtests: the bed's API client fails the test it was
	// made for.
	b := newPreflightBed(t)
	b.testReadmeRole(t)
	b.testBlindRole(t)
	b.testNoStatements(t)
}

func newPreflightBed(t *testing.T) *preflightBed {
	pg := testbed.StartPostgres(t, testbed.PostgresOptions{})
	srv := testbed.StartServer(t, bins, testbed.ServerOptions{})
	b := &preflightBed{t: t, pg: pg, api: newAPI(t, srv, token(t, srv), nil)}
	b.execIn(testbed.PostgresDatabase, "CREATE ROLE app NOLOGIN", "CREATE DATABASE blind", "CREATE DATABASE nostats")
	for _, db := range []string{testbed.PostgresDatabase, "blind", "nostats"} {
		b.execIn(db, "CREATE TABLE accounts (id serial PRIMARY KEY, nick text)",
			"INSERT INTO accounts (nick) SELECT 'n' || g FROM generate_series(1, 100) g",
			"ALTER TABLE accounts OWNER TO app")
	}
	readme := readmeRoleSQL(t)
	server, inDB := roleSetup(readme, "hs_agent", "agent-pw-1", testbed.PostgresDatabase, true)
	b.execIn(testbed.PostgresDatabase, append(server, inDB...)...)
	server, inDB = roleSetup(readme, "blind_agent", "blind-pw-1", "blind", false)
	b.execIn(testbed.PostgresDatabase, server...)
	b.execIn("blind", inDB...)
	server, inDB = roleSetup(readme, "nostats_agent", "nostats-pw-1", "nostats", true)
	b.execIn(testbed.PostgresDatabase, server...)
	b.execIn("nostats", withoutExtension(inDB)...)

	var tok struct{ Token string }
	b.api.must(http.StatusCreated, "POST", "/api/v1/agents", map[string]string{"name": "pg-host"}).decode(t, &tok)
	b.agent = testbed.StartAgent(t, bins, agentconfig.Config{Name: "pg-host", Token: tok.Token, Servers: []string{srv.RPCAddr},
		Instances: []agentconfig.InstanceConfig{
			{ID: "main", Engine: domain.PostgreSQL, DSN: pg.RoleDSN("hs_agent", "agent-pw-1", testbed.PostgresDatabase)},
			{ID: "blind", Engine: domain.PostgreSQL, DSN: pg.RoleDSN("blind_agent", "blind-pw-1", "blind")},
			{ID: "nostats", Engine: domain.PostgreSQL, DSN: pg.RoleDSN("nostats_agent", "nostats-pw-1", "nostats"),
				PrepareHistory: new(false)},
		}})
	for _, id := range []string{"main", "blind", "nostats"} {
		b.api.must(http.StatusCreated, "POST", "/api/v1/databases", dbSpec(id, "pg-host", id))
	}
	eventually(t, 30*time.Second, "every instance's preflight", func() bool {
		v, ok := b.api.agent("pg-host")
		n := 0
		for _, in := range v.Instances {
			if in.Preflight != nil {
				n++
			}
		}
		return ok && v.Connected && n == 3
	})
	return b
}

// execIn runs statements in database as the test bed's superuser.
func (b *preflightBed) execIn(database string, stmts ...string) {
	b.t.Helper()
	conn, err := pgx.Connect(context.Background(), b.pg.DSN(database))
	if err != nil {
		b.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, s := range stmts {
		if _, err := conn.Exec(context.Background(), s); err != nil {
			b.t.Fatalf("%s: %v", s, err)
		}
	}
}

// instance returns the agent's report of an instance.
func (b *preflightBed) instance(id string) domain.InstanceStatus {
	b.t.Helper()
	v, _ := b.api.agent("pg-host")
	in, ok := instanceOf(v, id)
	if !ok || in.Preflight == nil {
		b.t.Fatalf("instance %s: no preflight reported: %+v", id, in)
	}
	return in
}

// migration creates a migration on database db and returns its id.
func (b *preflightBed) migration(db, name, up, down string) string {
	var m struct{ MigrationID string }
	b.api.must(http.StatusCreated, "POST", "/api/v1/migrations", map[string]any{"name": name, "targetDatabaseId": db,
		"strategy": "Direct", "riskLevel": "Low", "migrationScript": up, "rollbackScript": down}).decode(b.t, &m)
	return m.MigrationID
}

// run executes a migration with body and waits for its end.
func (b *preflightBed) run(migID string, body map[string]any) (wire.ExecuteResponse, domain.Execution) {
	b.t.Helper()
	var r wire.ExecuteResponse
	b.api.must(http.StatusAccepted, "POST", "/api/v1/migrations/"+migID+"/execute", body).decode(b.t, &r)
	old := &bed{t: b.t, api: b.api}
	return r, old.waitTerminal(migID, r.ExecutionID, 60*time.Second)
}

func (b *preflightBed) testReadmeRole(t *testing.T) {
	if in := b.instance("main"); len(in.Preflight.Failures()) != 0 {
		t.Fatalf("the README's role fails preflight: %+v", in.Preflight.Failures())
	}
	// The agent created its bookkeeping when it connected, before any step.
	if !b.hasHistory(testbed.PostgresDatabase) || !strings.Contains(b.agent.Log(), "created the history tables") {
		t.Fatalf("no history tables before the first step:\n%s", tailString(b.agent.Log(), 3000))
	}
	mig := b.migration("main", "add_email", "ALTER TABLE accounts ADD COLUMN email text; CREATE INDEX CONCURRENTLY accounts_email ON accounts (email);",
		"DROP INDEX CONCURRENTLY accounts_email; ALTER TABLE accounts DROP COLUMN email;")
	r, e := b.run(mig, map[string]any{"monitoring": map[string]any{"monitorWindowSeconds": -1}})
	if e.Status != domain.ExecutionSucceeded || len(r.Warnings) != 0 {
		t.Fatalf("execution as the README's role: %s, warnings %q\n%s", e.Status, r.Warnings, logText(e))
	}
	var n int64
	conn, err := pgx.Connect(context.Background(), b.pg.DSN(testbed.PostgresDatabase))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM hotswap.schema_history").Scan(&n); err != nil || n != 1 {
		t.Errorf("history rows = %d, %v; want the step recorded", n, err)
	}
}

func (b *preflightBed) testBlindRole(t *testing.T) {
	in := b.instance("blind")
	c, _ := in.Preflight.Check(domain.PreflightSessions)
	if c.OK || !strings.Contains(c.Fix, "GRANT pg_monitor TO blind_agent") {
		t.Fatalf("sessions check of a role without pg_monitor = %+v", c)
	}
	// The warning is logged once, not on every heartbeat: wait for a few
	// heartbeats to have been reported, then count.
	first := in.CheckedAt
	eventually(t, 20*time.Second, "three more heartbeats", func() bool {
		in, _ := instanceOf(must(b.api.agent("pg-host")), "blind")
		return in.CheckedAt.Sub(first) >= 3*time.Second
	})
	if got := strings.Count(b.agent.Log(), "instance=blind check=sessions"); got != 1 || !strings.Contains(b.agent.Log(), "GRANT pg_monitor TO blind_agent") {
		t.Errorf("the agent logged the missing pg_monitor %d times, want once:\n%s", got, tailString(b.agent.Log(), 3000))
	}

	mig := b.migration("blind", "add_email", "ALTER TABLE accounts ADD COLUMN email text;", "ALTER TABLE accounts DROP COLUMN email;")
	refused := b.api.do("POST", "/api/v1/migrations/"+mig+"/execute", map[string]any{})
	if refused.Status != http.StatusConflict || !strings.Contains(string(refused.Body), "blind") || !strings.Contains(string(refused.Body), "pg_monitor") ||
		!strings.Contains(string(refused.Body), "acceptBlindLockGuard") {
		t.Fatalf("execute with a blind guard = %d %s; want 409 naming the fix and the flag", refused.Status, refused.Body)
	}
	r, e := b.run(mig, map[string]any{"acceptBlindLockGuard": true, "monitoring": map[string]any{"monitorWindowSeconds": -1}})
	if e.Status != domain.ExecutionSucceeded || !strings.Contains(logText(e), "lock-queue guard blind") ||
		!strings.Contains(logText(e), "accepted by") || len(r.Warnings) == 0 {
		t.Fatalf("accepted blind execution: %s, warnings %q\n%s", e.Status, r.Warnings, logText(e))
	}
	var h wire.DatabaseHealth
	b.api.must(http.StatusOK, "GET", "/api/v1/databases/blind/health", nil).decode(t, &h)
	if len(h.Warnings) == 0 || !strings.Contains(strings.Join(h.Warnings, "\n"), "pg_monitor") {
		t.Errorf("health warnings = %q, want the missing pg_monitor", h.Warnings)
	}
}

func (b *preflightBed) testNoStatements(t *testing.T) {
	in := b.instance("nostats")
	if c, _ := in.Preflight.Check(domain.PreflightLatency); c.OK || !strings.Contains(c.Fix, "CREATE EXTENSION pg_stat_statements") {
		t.Fatalf("latency check without the extension = %+v", c)
	}
	// prepare_history: false leaves the bookkeeping to the first step.
	if b.hasHistory("nostats") {
		t.Fatal("the agent created the history tables of an instance with prepare_history: false")
	}
	mig := b.migration("nostats", "add_email", "ALTER TABLE accounts ADD COLUMN email text;", "ALTER TABLE accounts DROP COLUMN email;")
	_, e := b.run(mig, map[string]any{"monitoring": map[string]any{"monitorWindowSeconds": 1}})
	if e.Status != domain.ExecutionSucceeded || !strings.Contains(logText(e), "latency rule disabled on pg-host/nostats") {
		t.Fatalf("execution without pg_stat_statements: %s\n%s", e.Status, logText(e))
	}
	if !b.hasHistory("nostats") {
		t.Error("the first step did not create the history tables")
	}
}

// hasHistory reports whether database has hotswap.schema_history.
func (b *preflightBed) hasHistory(database string) bool {
	b.t.Helper()
	conn, err := pgx.Connect(context.Background(), b.pg.DSN(database))
	if err != nil {
		b.t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var ok bool
	if err := conn.QueryRow(context.Background(), "SELECT to_regclass('hotswap.schema_history') IS NOT NULL").Scan(&ok); err != nil {
		b.t.Fatal(err)
	}
	return ok
}

// must drops the ok of a lookup.
func must[T any](v T, _ bool) T { return v }
