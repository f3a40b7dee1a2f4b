package e2e

import (
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	wire "github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// readmeMariaDBSQL is the README's MariaDB statements that set up the
// agent's account, for user with password, serving database.
func readmeMariaDBSQL(t *testing.T, user, password, database string) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, _ := strings.Cut(string(b), "### The database role")
	for _, m := range regexp.MustCompile("(?s)```sql\n(.*?)```").FindAllStringSubmatch(after, -1) {
		if !strings.HasPrefix(m[1], "-- MariaDB") {
			continue
		}
		var stmts []string
		for _, line := range strings.Split(m[1], "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "--") {
				line = strings.ReplaceAll(strings.TrimSuffix(line, ";"), "CHANGE-ME", password)
				line = strings.ReplaceAll(line, "'hotswap_agent'", "'"+user+"'")
				stmts = append(stmts, strings.ReplaceAll(line, "`app`", "`"+database+"`"))
			}
		}
		return stmts
	}
	t.Fatal("README has no sql block starting \"-- MariaDB\" under \"### The database role\"")
	return nil
}

// without leaves one privilege out of the README's statements: a global
// privilege out of its GRANT list ("PROCESS" turns "GRANT PROCESS, X ON"
// into "GRANT X ON"), or "performance_schema" the GRANT on that schema.
func without(stmts []string, privilege string) []string {
	out := make([]string, 0, len(stmts))
	for _, s := range stmts {
		if privilege == "performance_schema" && strings.HasPrefix(s, "GRANT SELECT ON performance_schema.*") {
			continue
		}
		out = append(out, strings.Replace(s, privilege+", ", "", 1))
	}
	return out
}

// TestMariaDBPreflight sets up accounts on one MariaDB server: the
// README's, one without PROCESS, one that may not read performance_schema.
// The README's runs a migration with no warning; the blind one is warned
// about and its execution refused unless accepted; the one without
// digests gets an execution whose log says the latency rule is disabled.
func TestMariaDBPreflight(t *testing.T) {
	m := testbed.StartMariaDB(t, testbed.MariaDBOptions{})
	srv := testbed.StartServer(t, bins, testbed.ServerOptions{})
	b := &preflightBed{t: t, api: newAPI(t, srv, token(t, srv), nil)}
	admin := mariaDB(t, m)
	accounts := map[string][]string{
		"main":    readmeMariaDBSQL(t, "main", "main-pw-1", "main"),
		"blind":   without(readmeMariaDBSQL(t, "blind", "blind-pw-1", "blind"), "PROCESS"),
		"nostats": without(readmeMariaDBSQL(t, "nostats", "nostats-pw-1", "nostats"), "performance_schema"),
	}
	var instances []agentconfig.InstanceConfig
	for _, id := range []string{"main", "blind", "nostats"} {
		stmts := append([]string{"CREATE DATABASE " + id, "CREATE TABLE " + id + ".accounts (id int PRIMARY KEY, nick varchar(20))",
			"INSERT INTO " + id + ".accounts VALUES (1, 'a'), (2, 'b')"}, accounts[id]...)
		for _, s := range stmts {
			if _, err := admin.ExecContext(t.Context(), s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		dsn := fmt.Sprintf("%s:%s-pw-1@tcp(127.0.0.1:%d)/%s", id, id, m.Port(), id)
		instances = append(instances, agentconfig.InstanceConfig{ID: id, Engine: domain.MySQL, DSN: dsn})
	}
	var tok struct{ Token string }
	b.api.must(http.StatusCreated, "POST", "/api/v1/agents", map[string]string{"name": "maria-host"}).decode(t, &tok)
	b.agent = testbed.StartAgent(t, bins, agentconfig.Config{Name: "maria-host", Token: tok.Token, Servers: []string{srv.RPCAddr},
		Instances: instances})
	for _, id := range []string{"main", "blind", "nostats"} {
		spec := dbSpec(id, "maria-host", id)
		spec["type"] = "MySQL"
		b.api.must(http.StatusCreated, "POST", "/api/v1/databases", spec)
	}
	t.Cleanup(func() {
		if t.Failed() {
			v, _ := b.api.agent("maria-host")
			t.Logf("agent: %+v\n%s", v, tailString(b.agent.Log(), 4000))
		}
	})
	eventually(t, 30*time.Second, "every instance's preflight", func() bool {
		v, ok := b.api.agent("maria-host")
		n := 0
		for _, in := range v.Instances {
			if in.Preflight != nil {
				n++
			}
		}
		return ok && v.Connected && n == 3
	})
	testMariaDBReadmeAccount(t, b, admin)
	testMariaDBBlind(t, b)
	testMariaDBNoDigests(t, b)
}

func testMariaDBReadmeAccount(t *testing.T, b *preflightBed, admin *sql.DB) {
	if in := mariaInstance(t, b, "main"); len(in.Preflight.Failures()) != 0 {
		t.Fatalf("the README's account fails preflight: %+v", in.Preflight.Failures())
	}
	mig := b.migration("main", "add_email", "ALTER TABLE accounts ADD COLUMN email varchar(80); CREATE INDEX accounts_email ON accounts (email);",
		"DROP INDEX accounts_email ON accounts; ALTER TABLE accounts DROP COLUMN email;")
	r, e := b.run(mig, map[string]any{"monitoring": map[string]any{"monitorWindowSeconds": -1}})
	if e.Status != domain.ExecutionSucceeded || len(r.Warnings) != 0 {
		t.Fatalf("execution as the README's account: %s, warnings %q\n%s", e.Status, r.Warnings, logText(e))
	}
	var n int
	err := admin.QueryRowContext(t.Context(), "SELECT count(*) FROM hotswap.schema_history WHERE execution_id = ?", r.ExecutionID).Scan(&n)
	if err != nil || n != 1 {
		t.Errorf("history rows = %d, %v; want the step recorded", n, err)
	}
}

func testMariaDBBlind(t *testing.T, b *preflightBed) {
	in := mariaInstance(t, b, "blind")
	if c, _ := in.Preflight.Check(domain.PreflightSessions); c.OK || !strings.Contains(c.Fix, "GRANT PROCESS ON *.* TO 'blind'@'%'") {
		t.Fatalf("sessions check of an account without PROCESS = %+v", c)
	}
	mig := b.migration("blind", "add_email", "ALTER TABLE accounts ADD COLUMN email varchar(80);", "ALTER TABLE accounts DROP COLUMN email;")
	refused := b.api.do("POST", "/api/v1/migrations/"+mig+"/execute", map[string]any{})
	if body := string(refused.Body); refused.Status != http.StatusConflict || !strings.Contains(body, "blind") ||
		!strings.Contains(body, "GRANT PROCESS") || !strings.Contains(body, "acceptBlindLockGuard") {
		t.Fatalf("execute with a blind guard = %d %s; want 409 naming the fix and the flag", refused.Status, refused.Body)
	}
	r, e := b.run(mig, map[string]any{"acceptBlindLockGuard": true, "monitoring": map[string]any{"monitorWindowSeconds": -1}})
	if e.Status != domain.ExecutionSucceeded || !strings.Contains(logText(e), "lock-queue guard blind") ||
		!strings.Contains(logText(e), "accepted by") || len(r.Warnings) == 0 {
		t.Fatalf("accepted blind execution: %s, warnings %q\n%s", e.Status, r.Warnings, logText(e))
	}
	var h wire.DatabaseHealth
	b.api.must(http.StatusOK, "GET", "/api/v1/databases/blind/health", nil).decode(t, &h)
	if !strings.Contains(strings.Join(h.Warnings, "\n"), "PROCESS") {
		t.Errorf("health warnings = %q, want the missing PROCESS", h.Warnings)
	}
}

func testMariaDBNoDigests(t *testing.T, b *preflightBed) {
	in := mariaInstance(t, b, "nostats")
	if c, _ := in.Preflight.Check(domain.PreflightLatency); c.OK || !strings.Contains(c.Fix, "GRANT SELECT ON performance_schema.*") {
		t.Fatalf("latency check without performance_schema access = %+v", c)
	}
	mig := b.migration("nostats", "add_email", "ALTER TABLE accounts ADD COLUMN email varchar(80);", "ALTER TABLE accounts DROP COLUMN email;")
	_, e := b.run(mig, map[string]any{"monitoring": map[string]any{"monitorWindowSeconds": 1}})
	if e.Status != domain.ExecutionSucceeded || !strings.Contains(logText(e), "latency rule disabled on maria-host/nostats") {
		t.Fatalf("execution without statement digests: %s\n%s", e.Status, logText(e))
	}
}

// mariaInstance returns the MariaDB agent's report of an instance.
func mariaInstance(t *testing.T, b *preflightBed, id string) domain.InstanceStatus {
	t.Helper()
	v, _ := b.api.agent("maria-host")
	in, ok := instanceOf(v, id)
	if !ok || in.Preflight == nil {
		t.Fatalf("instance %s: no preflight reported: %+v", id, in)
	}
	return in
}
