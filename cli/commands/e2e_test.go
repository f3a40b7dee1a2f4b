package commands

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/cli/client"
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
			if st := decode[client.ClusterStatus](t, r.stdout); st.State != "Leader" || len(st.Servers) != 1 {
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
		_, err := client.New(hotswapd.addr, "").ListDatabases(context.Background())
		if !errors.Is(err, client.ErrUnauthorized) {
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

	tok := decode[client.AgentToken](t, mustHS(t, "-o", "json", "agent", "token", "create", "agent-cmds-2"))
	if tok.Name != "agent-cmds-2" || !strings.HasPrefix(tok.Token, "hsa_") {
		t.Errorf("token create -o json = %+v, want name agent-cmds-2 and an hsa_ token", tok)
	}
	if r := hs(t, "agent", "token", "create", "agent-cmds"); r.code != ExitError {
		t.Errorf("creating agent-cmds twice: exit %d, want %d", r.code, ExitError)
	}

	list := decode[client.AgentList](t, mustHS(t, "-o", "json", "agent", "list"))
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

	h := decode[client.DatabaseHealth](t, mustHS(t, "-o", "json", "database", "health", "orders"))
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
		"Medium (approval required)", "ADD COLUMN note text", m.MigrationID)

	list := decode[client.MigrationList](t, mustHS(t, "-o", "json", "migration", "list", "--database", "billing"))
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

	list := decode[client.MigrationList](t, mustHS(t, "-o", "json", "migration", "list", "--database", db.DatabaseID))
	if list.Total != 0 {
		t.Errorf("migrations after the refused create = %d, want 0", list.Total)
	}
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
		{"bad output", []string{"-o", "yaml", "agent", "list"}, `--output "yaml": want table or json`},
		{"unreadable spec file", []string{"database", "register", "--file", "/nonexistent.json"}, "--file: open /nonexistent.json"},
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
