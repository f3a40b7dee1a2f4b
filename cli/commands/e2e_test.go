package commands

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// decode parses a command's JSON output, failing the test when it is not.
func decode[T any](t *testing.T, out string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("output is not the expected JSON: %v\n%s", err, out)
	}
	return v
}

// wantContains fails the test unless s holds every one of want.
func wantContains(t *testing.T, what, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("%s = %q, want it to contain %q", what, s, w)
		}
	}
}

// writeFile writes content to name in a test folder and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// registerDatabase registers an agent and a PostgreSQL database it serves.
func registerDatabase(t *testing.T, agent, db string) domain.Database {
	t.Helper()
	mustHS(t, "agent", "token", "create", agent)
	out := mustHS(t, "-o", "json", "database", "register", "--name", db, "--type", "PostgreSQL",
		"--environment", "Staging", "--instance", agent+"/main=Master")
	return decode[domain.Database](t, out)
}

func TestTokenSources(t *testing.T) {
	tokenFile := writeFile(t, "token", hotswapd.token+"\n")
	tests := []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"flag", nil, []string{"--address", hotswapd.addr, "--token", hotswapd.token}},
		{"env", map[string]string{"HOTSWAP_ADDR": "http://" + hotswapd.addr, "HOTSWAP_TOKEN": hotswapd.token}, nil},
		{"token file", nil, []string{"--address", hotswapd.addr, "--token-file", tokenFile}},
		{"token file wins over env", map[string]string{"HOTSWAP_TOKEN": "hst_wrong"},
			[]string{"--address", hotswapd.addr, "--token-file", tokenFile}},
		{"flags after the command", nil, []string{"cluster", "status", "--address", hotswapd.addr, "-o", "json", "--token", hotswapd.token}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			args := tt.args
			if !strings.Contains(strings.Join(args, " "), "cluster status") {
				args = append(args, "-o", "json", "cluster", "status")
			}
			r := runCLI(t, "", args...)
			if r.code != ExitOK {
				t.Fatalf("exit %d, want 0; stderr: %s", r.code, r.stderr)
			}
			if st := decode[api.ClusterStatus](t, r.stdout); st.State != "Leader" || len(st.Servers) != 1 {
				t.Errorf("cluster status = %+v, want a one-server cluster led by this server", st)
			}
		})
	}
}

func TestUnauthorized(t *testing.T) {
	t.Run("no token: refused before any request", func(t *testing.T) {
		r := runCLI(t, "", "--address", "127.0.0.1:1", "agent", "list")
		if r.code != ExitUsage {
			t.Errorf("exit = %d, want %d", r.code, ExitUsage)
		}
		wantContains(t, "stderr", r.stderr, "hotswap: no API token", "HOTSWAP_TOKEN")
	})
	t.Run("no token: the API refuses too", func(t *testing.T) {
		_, err := api.New(hotswapd.addr, "").ListDatabases(context.Background())
		if !errors.Is(err, api.ErrUnauthorized) {
			t.Errorf("ListDatabases() without a token: error = %v, want ErrUnauthorized", err)
		}
	})
	t.Run("wrong token: the API's 401", func(t *testing.T) {
		r := runCLI(t, "", "--address", hotswapd.addr, "--token", "hst_wrong", "agent", "list")
		if r.code != ExitError || r.stdout != "" {
			t.Errorf("exit = %d, stdout = %q; want %d and no output", r.code, r.stdout, ExitError)
		}
		wantContains(t, "stderr", r.stderr, "hotswap: list agents: missing or invalid bearer token", "--token-file")
	})
}

func TestAgentCommands(t *testing.T) {
	out := mustHS(t, "agent", "token", "create", "agent-cmds")
	wantContains(t, "token create output", out, "hsa_", "shown only this once", "name: agent-cmds", "token_file:")

	tok := decode[api.AgentTokenResponse](t, mustHS(t, "-o", "json", "agent", "token", "create", "agent-cmds-2"))
	if tok.Name != "agent-cmds-2" || !strings.HasPrefix(tok.Token, "hsa_") {
		t.Errorf("token create -o json = %+v, want name agent-cmds-2 and an hsa_ token", tok)
	}
	if r := hs(t, "agent", "token", "create", "agent-cmds"); r.code != ExitError {
		t.Errorf("creating agent-cmds twice: exit %d, want %d", r.code, ExitError)
	}

	list := decode[api.AgentList](t, mustHS(t, "-o", "json", "agent", "list"))
	names := map[string]bool{}
	for _, a := range list.Agents {
		names[a.Name] = true
	}
	if !names["agent-cmds"] || !names["agent-cmds-2"] {
		t.Errorf("agent list = %+v, want agent-cmds and agent-cmds-2", list)
	}
	wantContains(t, "agent list", mustHS(t, "agent", "list"), "NAME", "CONNECTED", "agent-cmds-2")
	wantContains(t, "agent show", mustHS(t, "agent", "show", "agent-cmds"), "Name:", "agent-cmds", "Connected:", "no")

	wantContains(t, "agent delete", mustHS(t, "agent", "delete", "agent-cmds-2"), "deleted")
	r := hs(t, "agent", "show", "agent-cmds-2")
	if r.code != ExitError {
		t.Errorf("show deleted agent: exit %d, want %d", r.code, ExitError)
	}
	wantContains(t, "stderr", r.stderr, "hotswap: show agent:", "agent-cmds-2")
}

func TestDatabaseCommands(t *testing.T) {
	mustHS(t, "agent", "token", "create", "db-host-a")
	mustHS(t, "agent", "token", "create", "db-host-b")
	db := decode[domain.Database](t, mustHS(t, "-o", "json", "database", "register", "--name", "orders",
		"--type", "postgresql", "--env", "Production", "--label", "team=payments", "--label", "tier=1",
		"--instance", "db-host-a/main=Master", "--instance", "db-host-b/main=AsyncReplica"))
	want := []domain.InstanceRef{{Agent: "db-host-a", InstanceID: "main", Role: domain.RoleMaster},
		{Agent: "db-host-b", InstanceID: "main", Role: domain.RoleAsyncReplica}}
	if db.Type != domain.PostgreSQL || len(db.Instances) != 2 || db.Instances[0] != want[0] || db.Instances[1] != want[1] {
		t.Errorf("registered = %+v, want PostgreSQL with instances %v", db, want)
	}
	if db.Labels["team"] != "payments" || db.Labels["tier"] != "1" {
		t.Errorf("labels = %v, want team=payments tier=1", db.Labels)
	}

	wantContains(t, "database list", mustHS(t, "database", "list"), "ENVIRONMENT", "orders", "db-host-a/main=Master")
	wantContains(t, "database show", mustHS(t, "database", "show", "orders"),
		"ID:", db.DatabaseID, "team=payments", "AGENT", "db-host-b  main      AsyncReplica")
	if got := decode[domain.Database](t, mustHS(t, "database", "show", db.DatabaseID, "-o", "json")); got.Name != "orders" {
		t.Errorf("show by id = %+v, want orders", got)
	}

	upd := decode[domain.Database](t, mustHS(t, "database", "update", "orders", "--label", "tier=2", "-o", "json"))
	if upd.Labels["tier"] != "2" || upd.Labels["team"] != "payments" || len(upd.Instances) != 2 {
		t.Errorf("after update = %+v, want tier=2, the other label and the instances kept", upd)
	}

	h := decode[api.DatabaseHealth](t, mustHS(t, "-o", "json", "database", "health", "orders"))
	if h.IsHealthy || len(h.Instances) != 2 {
		t.Errorf("health = %+v, want unhealthy (no agent connected) with 2 instances", h)
	}
	wantContains(t, "database health", mustHS(t, "database", "health", "orders"), "Healthy:", "not connected")

	wantContains(t, "delete", mustHS(t, "database", "delete", "orders"), "deleted")
	if r := hs(t, "database", "show", "orders"); r.code != ExitError {
		t.Errorf("show deleted database: exit %d, want %d", r.code, ExitError)
	}
}

func TestDatabaseRegisterRefused(t *testing.T) {
	r := hs(t, "database", "register", "--name", "ghost", "--type", "PostgreSQL", "--environment", "QA",
		"--instance", "nobody/main=Master")
	if r.code != ExitError {
		t.Errorf("exit = %d, want %d", r.code, ExitError)
	}
	wantContains(t, "stderr", r.stderr, "hotswap: register database: request validation failed",
		"instances[0].agent (--instance nobody/main=Master): no agent named nobody")

	spec := writeFile(t, "db.json", `{"name":"leaky","type":"PostgreSQL","environment":"QA",
		"instances":[{"agent":"a","instanceId":"main","role":"Master","connectionString":"host=x password=y"}]}`)
	r = hs(t, "database", "register", "--file", spec)
	if r.code != ExitUsage {
		t.Errorf("spec with a connection string: exit %d, want %d", r.code, ExitUsage)
	}
	wantContains(t, "stderr", r.stderr, `unknown field "connectionString"`, "hotswap-agent config")
}

func TestMigrationCommands(t *testing.T) {
	db := registerDatabase(t, "mig-host", "billing")
	up := writeFile(t, "up.sql", "CREATE TABLE invoices (id bigint PRIMARY KEY);\n")
	down := writeFile(t, "down.sql", "DROP TABLE invoices;\n")

	m := decode[domain.Migration](t, mustHS(t, "-o", "json", "migration", "create", "--name", "create_invoices",
		"--database", "billing", "--up", up, "--down", down, "--risk", "low", "--tag", "table", "--tag", "billing",
		"--description", "invoices table"))
	if m.Status != domain.MigrationDraft || m.TargetDatabaseID != db.DatabaseID || m.RiskLevel != domain.RiskLow ||
		m.MigrationScript != "CREATE TABLE invoices (id bigint PRIMARY KEY);\n" || len(m.Tags) != 2 {
		t.Errorf("created = %+v, want a Low-risk Draft of billing with the up script and 2 tags", m)
	}

	// The forward script from stdin, depending on the first migration.
	second := writeFile(t, "down2.sql", "ALTER TABLE invoices DROP COLUMN note;")
	out := runCLI(t, "ALTER TABLE invoices ADD COLUMN note text;", "--address", hotswapd.addr, "--token", hotswapd.token,
		"migration", "create", "--name", "add_note", "--database", db.DatabaseID, "--up", "-", "--down", second,
		"--depends-on", m.MigrationID)
	if out.code != ExitOK {
		t.Fatalf("create from stdin: exit %d: %s", out.code, out.stderr)
	}
	wantContains(t, "create output", out.stdout, "Name:", "add_note", "billing ("+db.DatabaseID+")",
		"Low (approval not needed)", "ADD COLUMN note text", m.MigrationID)

	list := decode[api.MigrationList](t, mustHS(t, "-o", "json", "migration", "list", "--database", "billing"))
	if list.Total != 2 || len(list.Migrations) != 2 || list.Migrations[0].Name != "create_invoices" {
		t.Errorf("list = %+v, want the 2 migrations of billing, oldest first", list)
	}
	page := mustHS(t, "migration", "list", "--database", "billing", "--limit", "1")
	wantContains(t, "list table", page, "STATUS", "create_invoices", "Showing 1-1 of 2; next page: --offset 1")

	shown := mustHS(t, "migration", "show", m.MigrationID)
	wantContains(t, "show table", shown, "Status:", "Draft", "table, billing", "-- up (migrationScript)",
		"CREATE TABLE invoices", "-- down (rollbackScript)", "DROP TABLE invoices;")

	upd := decode[domain.Migration](t, mustHS(t, "migration", "update", m.MigrationID, "--risk", "High", "-o", "json"))
	if upd.RiskLevel != domain.RiskHigh || !upd.RequiresApproval || upd.MigrationScript != m.MigrationScript {
		t.Errorf("after update = %+v, want High risk needing approval, scripts kept", upd)
	}

	if r := hs(t, "migration", "delete", m.MigrationID); r.code != ExitError {
		t.Errorf("deleting a migration another depends on: exit %d, want %d", r.code, ExitError)
	}
	wantContains(t, "delete", mustHS(t, "migration", "delete", list.Migrations[1].MigrationID), "deleted")
}

func TestMigrationSyntaxError(t *testing.T) {
	db := registerDatabase(t, "syntax-host", "syntax_db")
	up := writeFile(t, "up.sql", "CREATE TABLE t (id int);\nCREAT INDEX t_id ON t (id);\n")
	down := writeFile(t, "down.sql", "DROP TABLE t;")
	r := hs(t, "migration", "create", "--name", "bad_sql", "--database", "syntax_db", "--up", up, "--down", down)
	if r.code != ExitError || r.stdout != "" {
		t.Errorf("exit = %d, stdout = %q; want %d and no output", r.code, r.stdout, ExitError)
	}
	wantContains(t, "stderr", r.stderr, "hotswap: create migration: request validation failed",
		"migrationScript (--up "+up+"): syntax error at or near", `"CREAT"`, "line 2, column 1")

	list := decode[api.MigrationList](t, mustHS(t, "-o", "json", "migration", "list", "--database", db.DatabaseID))
	if list.Total != 0 {
		t.Errorf("migrations after the refused create = %d, want 0", list.Total)
	}
}

// TestLockPolicyErrorsNameTheirFlags: a refused lock policy names the
// flag that set it, as the other fields do.
func TestLockPolicyErrorsNameTheirFlags(t *testing.T) {
	registerDatabase(t, "policy-host", "policy_db")
	up := writeFile(t, "up.sql", "ALTER TABLE t ADD COLUMN c int;")
	down := writeFile(t, "down.sql", "ALTER TABLE t DROP COLUMN c;")
	r := hs(t, "migration", "create", "--name", "bad_policy", "--database", "policy_db", "--up", up, "--down", down,
		"--never-free", "bogus", "--terminate-blockers-after", "500ms")
	if r.code != ExitError {
		t.Errorf("exit = %d, want %d", r.code, ExitError)
	}
	wantContains(t, "stderr", r.stderr, "lockPolicy.neverFree (--never-free bogus): must be one of wait, fail",
		"lockPolicy.terminateBlockersAfterMs (--terminate-blockers-after 500ms): must be 0 (never) or at least 1000")
	r = hs(t, "migration", "create", "--name", "bad_policy", "--database", "policy_db", "--up", up, "--down", down,
		"--terminate-privileged")
	wantContains(t, "stderr", r.stderr, "lockPolicy.terminatePrivileged (--terminate-privileged): needs terminateBlockersAfterMs")
}

// TestUsageErrors checks bad command lines fail with exit 2 before any
// request: the address is a closed port, so a request would fail otherwise.
func TestUsageErrors(t *testing.T) {
	down := writeFile(t, "down.sql", "SELECT 1;")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"instance without role", []string{"database", "register", "--name", "x", "--instance", "host1"}, `--instance "host1": want AGENT/INSTANCE=ROLE`},
		{"instance without id", []string{"database", "register", "--instance", "host1=Master"}, `--instance "host1=Master": want AGENT/INSTANCE=ROLE`},
		{"label without value", []string{"database", "register", "--label", "team"}, `--label "team": want KEY=VALUE`},
		{"unreadable --up", []string{"migration", "create", "--name", "m", "--database", "d", "--up", "/nonexistent/up.sql", "--down", down}, "--up: open /nonexistent/up.sql"},
		{"both scripts from stdin", []string{"migration", "create", "--name", "m", "--database", "d", "--up", "-", "--down", "-"}, "--up and --down cannot both read stdin"},
		{"missing flags", []string{"migration", "create", "--name", "m"}, "missing --database, --up, --down"},
		{"nothing to update", []string{"migration", "update", "mig-1"}, "nothing to update"},
		{"missing argument", []string{"database", "show"}, "database show needs ID|NAME"},
		{"extra argument", []string{"agent", "show", "a", "b"}, "agent show takes NAME only; unexpected: b"},
		{"unknown flag", []string{"agent", "list", "--bogus"}, "flag provided but not defined: -bogus"},
		{"unknown command", []string{"agent", "frobnicate"}, `unknown command "frobnicate"`},
		{"bad output", []string{"-o", "xml", "agent", "list"}, `--output "xml": want table, json or yaml`},
		{"unreadable spec file", []string{"database", "register", "--file", "/nonexistent.json"}, "--file: open /nonexistent.json"},
		{"rollback without reason", []string{"execution", "rollback", "mig-1", "exec-1"}, "--reason is required"},
		{"rollback with a blank reason", []string{"execution", "rollback", "mig-1", "exec-1", "--reason", " "}, "--reason is required"},
		{"show without execution id", []string{"execution", "show"}, "execution show needs EXECUTION"},
		{"show with three ids", []string{"execution", "show", "mig-1", "exec-1", "x"}, "execution show takes [MIGRATION] EXECUTION only; unexpected: x"},
		{"negative lock timeout", []string{"migration", "execute", "mig-1", "--lock-timeout", "-1s"}, "--lock-timeout -1s: must not be negative"},
		{"bare number duration", []string{"migration", "execute", "mig-1", "--timeout", "30"}, "--timeout 30: add a unit, e.g. 30s"},
		{"bare number duration with =", []string{"execution", "watch", "exec-1", "--interval=2"}, "--interval 2: add a unit, e.g. 2s"},
		{"sub-second timeout", []string{"migration", "execute", "mig-1", "--timeout", "10ms"}, "--timeout 10ms: want at least 1s"},
		{"zero watch interval", []string{"execution", "watch", "mig-1", "exec-1", "--interval", "0s"}, "--interval 0s: want a positive duration"},
		{"bad duration", []string{"migration", "execute", "mig-1", "--statement-timeout", "soon"}, "invalid value \"soon\" for flag -statement-timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, "", append([]string{"--address", "127.0.0.1:1", "--token", "t"}, tt.args...)...)
			if r.code != ExitUsage {
				t.Errorf("exit = %d, want %d; stderr: %s", r.code, ExitUsage, r.stderr)
			}
			wantContains(t, "stderr", r.stderr, "hotswap: "+tt.want)
			if strings.Contains(r.stderr, "cannot reach") {
				t.Errorf("a request was sent: %s", r.stderr)
			}
		})
	}
}

// createMigration creates a Low-risk migration of db and returns it.
func createMigration(t *testing.T, db, name, up string, extra ...string) domain.Migration {
	t.Helper()
	upFile := writeFile(t, name+"-up.sql", up)
	down := writeFile(t, name+"-down.sql", "SELECT 1;")
	args := append([]string{"-o", "json", "migration", "create", "--name", name, "--database", db, "--up", upFile,
		"--down", down, "--risk", "Low"}, extra...)
	return decode[domain.Migration](t, mustHS(t, args...))
}

// TestExecutionCommands runs what needs no agent: the executions are
// recorded and planned but stay Pending or Running, as no agent is there
// to run their steps.
func TestExecutionCommands(t *testing.T) {
	registerDatabase(t, "exec-host", "exec_db")
	m := createMigration(t, "exec_db", "create_ledger", "CREATE TABLE ledger (id bigint PRIMARY KEY);")

	r := decode[api.ExecuteResponse](t, mustHS(t, "-o", "json", "migration", "execute", m.MigrationID,
		"--strategy", "direct", "--lock-timeout", "250ms", "--timeout", "10m"))
	if r.MigrationID != m.MigrationID || !strings.HasPrefix(r.ExecutionID, "exec-") || r.Plan.Strategy != domain.Direct ||
		len(r.Plan.Steps) != 1 || r.Plan.Steps[0].Agent != "exec-host" {
		t.Fatalf("execute = %+v, want a Direct plan of one step on exec-host", r)
	}

	e := decode[domain.Execution](t, mustHS(t, "-o", "json", "execution", "show", m.MigrationID, r.ExecutionID))
	if e.Status != domain.ExecutionPending && e.Status != domain.ExecutionRunning {
		t.Errorf("status = %s, want Pending or Running: no agent is connected", e.Status)
	}
	if e.LockTimeoutMs != 250 || e.TimeoutSeconds != 600 {
		t.Errorf("timeouts = %dms lock, %ds overall; want the flags' 250ms and 600s", e.LockTimeoutMs, e.TimeoutSeconds)
	}
	wantContains(t, "execution show", mustHS(t, "execution", "show", m.MigrationID, r.ExecutionID),
		"ID:", r.ExecutionID, "Strategy:", "Direct", "Timeouts:", "lock 250ms, statement none (the execution's), execution 10m0s",
		"STEP", "STATEMENTS", "RETRIES", "s1", "exec-host/main", "forward",
		"Log:", "Direct: apply on the master exec-host/main", "execution requested by")

	l := decode[api.ExecutionList](t, mustHS(t, "-o", "json", "execution", "list", m.MigrationID))
	if l.Total != 1 || len(l.Executions) != 1 || l.Executions[0].ExecutionID != r.ExecutionID {
		t.Errorf("execution list = %+v, want the one execution", l)
	}
	wantContains(t, "execution list", mustHS(t, "execution", "list", m.MigrationID), "STATUS", "PROGRESS", r.ExecutionID, "Direct")
}

func TestExecuteDryRunQueued(t *testing.T) {
	registerDatabase(t, "dry-host", "dry_db")
	first := createMigration(t, "dry_db", "create_a", "CREATE TABLE a (id int);")
	second := createMigration(t, "dry_db", "create_b", "CREATE TABLE b (id int);")
	mustHS(t, "migration", "execute", first.MigrationID) // holds the database: no agent will finish it

	out := mustHS(t, "migration", "execute", second.MigrationID, "--dry-run", "--queue")
	wantContains(t, "execute output", out, "Dry run exec-", "of migration "+second.MigrationID+": Pending",
		"nothing is changed", "Queued:", "Plan (Phased):", "the database has no replicas", "STEP", "dry-host/main",
		"Follow it: hotswap execution watch "+second.MigrationID+" exec-")

	l := decode[api.ExecutionList](t, mustHS(t, "-o", "json", "execution", "list", second.MigrationID))
	if len(l.Executions) != 1 || !l.Executions[0].DryRun || l.Executions[0].Status != domain.ExecutionPending {
		fl := mustHS(t, "-o", "json", "execution", "list", first.MigrationID)
		t.Fatalf("executions = %+v, want one Pending dry run, queued behind the first; first: %s", l, fl)
	}
	rb := hs(t, "execution", "rollback", second.MigrationID, l.Executions[0].ExecutionID, "--reason", "test")
	if rb.code != ExitError {
		t.Errorf("rollback of a dry run: exit %d, want %d", rb.code, ExitError)
	}
	wantContains(t, "stderr", rb.stderr, "hotswap: rollback execution: a dry run applies nothing and has nothing to roll back")
}

func TestExecuteRefused(t *testing.T) {
	registerDatabase(t, "refuse-host", "refuse_db")
	first := createMigration(t, "refuse_db", "create_c", "CREATE TABLE c (id int);")
	second := createMigration(t, "refuse_db", "alter_c", "ALTER TABLE c ADD COLUMN note text;", "--depends-on", first.MigrationID)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown strategy (400)", []string{first.MigrationID, "--strategy", "Nope"},
			[]string{"hotswap: execute migration: request validation failed", "strategy (--strategy Nope): unknown strategy Nope"}},
		{"wrong environment (400)", []string{first.MigrationID, "--environment", "Production"},
			[]string{"environment (--environment Production): database refuse_db is in Staging, not Production"}},
		{"dependency not met (409)", []string{second.MigrationID},
			[]string{"hotswap: execute migration: dependency create_c (" + first.MigrationID + ") has not succeeded", "execute it first"}},
		{"no such migration (404)", []string{"mig-nope"}, []string{"hotswap: execute migration:", "mig-nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := hs(t, append([]string{"migration", "execute"}, tt.args...)...)
			if r.code != ExitError || r.stdout != "" {
				t.Errorf("exit = %d, stdout = %q; want %d and no output", r.code, r.stdout, ExitError)
			}
			wantContains(t, "stderr", r.stderr, tt.want...)
		})
	}
	if l := decode[api.ExecutionList](t, mustHS(t, "-o", "json", "execution", "list", second.MigrationID)); l.Total != 0 {
		t.Errorf("executions after the refusals = %d, want 0", l.Total)
	}
}

func TestDatabaseHistoryAgentDown(t *testing.T) {
	registerDatabase(t, "hist-host", "hist_db")
	r := hs(t, "database", "history", "hist_db")
	if r.code != ExitError {
		t.Errorf("exit = %d, want %d: the history could not be read", r.code, ExitError)
	}
	wantContains(t, "stdout", r.stdout, "Database: hist_db", "Instance hist-host/main:", "error:", "hist-host",
		"not every instance's could be read")
	wantContains(t, "stderr", r.stderr, "hotswap: database hist_db: the history of 1 instance(s) could not be read: drift unknown")

	r = hs(t, "-o", "json", "database", "history", "hist_db")
	h := decode[api.DatabaseHistory](t, r.stdout)
	if r.code != ExitError || h.InSync || len(h.Instances) != 1 || h.Instances[0].Error == "" {
		t.Errorf("-o json: exit %d, history %+v; want %d, not in sync, the instance's error", r.code, h, ExitError)
	}
}

func TestPlanPauseResume(t *testing.T) {
	registerDatabase(t, "plan-host", "plan_db")
	m := createMigration(t, "plan_db", "create_p", "CREATE TABLE p (id int);")
	out := mustHS(t, "migration", "plan", m.MigrationID, "--strategy", "canary")
	wantContains(t, "plan output", out, "Plan (Canary):", "phase 1", "STEP", "plan-host/main", "apply")

	bad := hs(t, "migration", "plan", m.MigrationID, "--strategy", "BlueGreen")
	if bad.code != ExitError {
		t.Errorf("plan BlueGreen: exit %d, want %d", bad.code, ExitError)
	}
	wantContains(t, "stderr", bad.stderr, "name the green instance and the pooler")

	mustHS(t, "migration", "execute", m.MigrationID) // no agent: stays Running or Pending
	l := decode[api.ExecutionList](t, mustHS(t, "-o", "json", "execution", "list", m.MigrationID))
	exec := l.Executions[0].ExecutionID
	resume := hs(t, "execution", "resume", m.MigrationID, exec)
	if resume.code != ExitError {
		t.Errorf("resume of an execution that is not paused: exit %d, want %d", resume.code, ExitError)
	}
	wantContains(t, "stderr", resume.stderr, "not Paused")
}
