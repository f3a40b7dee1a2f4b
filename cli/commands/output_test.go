package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// outputExempt are the commands TestOutputFormats does not run, and why.
var outputExempt = map[string]string{
	"completion":               "prints a shell script, not data",
	"tls ca create":            "writes files, talks to no server; run by TestTLSCommands",
	"tls cert create":          "writes files, talks to no server; run by TestTLSCommands",
	"execution pause":          "needs a running execution (an agent); prints through printer.show",
	"execution resume":         "needs a paused execution (an agent); prints through printer.show",
	"execution rollback":       "needs a running execution (an agent); prints through printer.show",
	"execution watch":          "runs against a fake server: TestWatchYAML",
	"audit export":             "prints the log as JSON lines or CSV (--format), not a document",
	"login":                    "needs a user's password; run by TestUsersLoginAndRoles",
	"user create":              "run by TestUsersLoginAndRoles, on users of its own",
	"user delete":              "run by TestUsersLoginAndRoles, on users of its own",
	"audit archive":            "drops entries the other tests read; refusals run by TestAuditArchiveRefusals, the archive itself by controlplane/httpapi TestAuditArchive",
	"token create":             "needs a logged-in user; run by TestUsersLoginAndRoles",
	"token list":               "needs a logged-in user; run by TestUsersLoginAndRoles (with -o json)",
	"token revoke":             "needs a logged-in user's token; run by TestUsersLoginAndRoles",
	"migration approve":        "needs a second user (the author cannot approve); run by TestApprovalCommands",
	"migration reject":         "needs a second user (the author cannot reject); run by TestApprovalCommands",
	"execution resolve":        "needs a Failed execution (an agent); prints through printer.show",
	"execution retry-rollback": "needs a Failed rollback (an agent); prints through printer.show",
	"operator snapshot restore": "replaces the state the other tests use: run by TestOperatorCommands and, " +
		"on a cluster of its own, internal/e2e TestOperatorRaftAndSnapshot",
	"operator raft remove-peer":     "needs a cluster of several servers: internal/e2e TestOperatorRaftAndSnapshot",
	"cluster join":                  "needs a cluster of several servers: internal/e2e TestClusterOperations",
	"cluster remove":                "needs a cluster of several servers: internal/e2e TestClusterOperations",
	"operator raft transfer-leader": "needs a cluster of several servers: internal/e2e TestOperatorRaftAndSnapshot",
}

// sameData fails unless the JSON and the YAML output hold the same
// document.
func sameData(t *testing.T, what, jsonOut, yamlOut string) {
	t.Helper()
	var fromJSON, fromYAML any
	if err := json.Unmarshal([]byte(jsonOut), &fromJSON); err != nil {
		t.Fatalf("%s -o json is not JSON: %v\n%s", what, err, jsonOut)
	}
	if err := yaml.Unmarshal([]byte(yamlOut), &fromYAML); err != nil {
		t.Fatalf("%s -o yaml is not YAML: %v\n%s", what, err, yamlOut)
	}
	if strings.HasPrefix(strings.TrimSpace(yamlOut), "{") {
		t.Errorf("%s -o yaml printed JSON, want block YAML:\n%s", what, yamlOut)
	}
	raw, _ := json.Marshal(fromYAML) // YAML's ints and JSON's floats compare alike through JSON
	var normalized any
	_ = json.Unmarshal(raw, &normalized)
	if _, live := liveOutput[what]; live {
		fromJSON, normalized = shape(fromJSON), shape(normalized)
	}
	if !reflect.DeepEqual(fromJSON, normalized) {
		t.Errorf("%s: -o yaml holds\n%v\nwant what -o json holds\n%v", what, normalized, fromJSON)
	}
}

// liveOutput are the commands whose answer may change between the json
// and the yaml call (Raft indexes advance, executions move, the audit log
// grows): for them the two must hold the same fields, of the same kinds.
var liveOutput = map[string]struct{}{
	"cluster status": {}, "agent list": {}, "agent show": {}, "database health": {},
	"execution list": {}, "execution show": {}, "audit list": {}, "audit verify": {},
	"operator raft list-peers": {},
}

// shape replaces every value of a decoded JSON document by its kind,
// keeping the keys; lists keep the shape of their first element.
func shape(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = shape(e)
		}
		return out
	case []any:
		if len(x) == 0 {
			return []any{}
		}
		return []any{shape(x[0])}
	case nil:
		return nil
	default:
		return fmt.Sprintf("%T", x)
	}
}

// TestOutputFormats runs every command that prints with -o table, json and
// yaml: json and yaml hold the same document, table is for people, and a
// command that answers nothing prints nothing in json and yaml.
func TestOutputFormats(t *testing.T) {
	registerDatabase(t, "out-host", "out_db")
	m := createMigration(t, "out_db", "create_out", "CREATE TABLE out_t (id int);")
	ex := decode[api.ExecuteResponse](t, mustHS(t, "-o", "json", "migration", "execute", m.MigrationID, "--dry-run"))
	waitStarted(t, m.MigrationID, ex.ExecutionID)
	reads := [][]string{
		{"cluster", "status"}, {"version"}, {"agent", "list"}, {"agent", "show", "out-host"},
		{"database", "list"}, {"database", "show", "out_db"}, {"database", "health", "out_db"},
		{"database", "history", "out_db"},
		{"migration", "list", "--database", "out_db"}, {"migration", "show", m.MigrationID},
		{"migration", "plan", m.MigrationID}, {"execution", "list", m.MigrationID},
		{"execution", "show", m.MigrationID, ex.ExecutionID}, {"migration", "validate", m.MigrationID},
		{"lint", writeFile(t, "lint.sql", "CREATE TABLE out_l (id int);")},
		{"user", "list"}, {"audit", "list"}, {"audit", "verify"}, {"migration", "approvals", m.MigrationID},
		{"operator", "raft", "list-peers"},
	}
	covered := map[string]bool{}
	for _, args := range reads {
		name := commandName(args)
		covered[name] = true
		js, ym, table := hs(t, append([]string{"-o", "json"}, args...)...), hs(t, append([]string{"-o", "yaml"}, args...)...), hs(t, args...)
		if js.code != ym.code || js.code != table.code || js.stdout == "" {
			t.Errorf("%s: exit %d (json), %d (yaml), %d (table); want the same, with output: %s", name, js.code, ym.code,
				table.code, js.stderr)
			continue
		}
		sameData(t, name, js.stdout, ym.stdout)
		if strings.HasPrefix(table.stdout, "{") {
			t.Errorf("%s -o table printed JSON:\n%s", name, table.stdout)
		}
	}
	for _, w := range outputWrites(t, m) {
		covered[w.name] = true
		w.check(t)
	}
	for name := range leaves(NewApp(io.Discard, io.Discard)) {
		if _, ok := outputExempt[name]; !covered[name] && !ok {
			t.Errorf("command %q is not run with -o json and -o yaml: add it to TestOutputFormats", name)
		}
	}
}

// waitStarted waits until the control plane has started an execution, so
// that its fields (startedAt, fencingToken) do not appear between the json
// and the yaml call of the same read.
func waitStarted(t *testing.T, migrationID, executionID string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		e := decode[domain.Execution](t, mustHS(t, "-o", "json", "execution", "show", migrationID, executionID))
		if !e.StartedAt.IsZero() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s not started after 60 s: %s", executionID, e.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// outputWrite runs one command that changes something.
type outputWrite struct {
	name  string
	check func(*testing.T)
}

// outputWrites are the commands that change something, in order, each run
// with -o yaml on objects of its own.
func outputWrites(t *testing.T, m domain.Migration) []outputWrite {
	up := writeFile(t, "up.sql", "CREATE TABLE out_y (id int);")
	down := writeFile(t, "down.sql", "DROP TABLE out_y;")
	yamlOf := func(t *testing.T, out any, args ...string) {
		t.Helper()
		if err := yaml.Unmarshal([]byte(mustHS(t, append([]string{"-o", "yaml"}, args...)...)), out); err != nil {
			t.Fatalf("%s -o yaml: %v", commandName(args), err)
		}
	}
	silent := func(t *testing.T, args ...string) {
		t.Helper()
		if out := mustHS(t, append([]string{"-o", "yaml"}, args...)...); out != "" {
			t.Errorf("%s -o yaml printed %q; want nothing, as the API answered nothing", commandName(args), out)
		}
	}
	var mig map[string]any
	snapshotPath := filepath.Join(t.TempDir(), "state.snap")
	return []outputWrite{
		{"agent token create", func(t *testing.T) {
			var tok map[string]any
			yamlOf(t, &tok, "agent", "token", "create", "out-yaml")
			if tok["name"] != "out-yaml" || !strings.HasPrefix(tok["token"].(string), "hsa_") {
				t.Errorf("agent token create -o yaml = %v", tok)
			}
		}},
		{"database register", func(t *testing.T) {
			var db map[string]any
			yamlOf(t, &db, "database", "register", "--name", "out_yaml", "--type", "PostgreSQL", "--env", "QA",
				"--instance", "out-yaml/main=Master")
			if db["name"] != "out_yaml" || db["databaseId"] == "" {
				t.Errorf("database register -o yaml = %v", db)
			}
		}},
		{"database update", func(t *testing.T) {
			var db map[string]any
			yamlOf(t, &db, "database", "update", "out_yaml", "--label", "tier=1")
			if db["labels"].(map[string]any)["tier"] != "1" {
				t.Errorf("database update -o yaml = %v, want the label as the string \"1\"", db)
			}
		}},
		{"migration create", func(t *testing.T) {
			yamlOf(t, &mig, "migration", "create", "--name", "out_yaml", "--database", "out_db", "--up", up, "--down", down)
			if mig["name"] != "out_yaml" || mig["status"] != string(domain.MigrationDraft) {
				t.Errorf("migration create -o yaml = %v", mig)
			}
		}},
		{"migration update", func(t *testing.T) {
			var got map[string]any
			yamlOf(t, &got, "migration", "update", mig["migrationId"].(string), "--risk", "High")
			if got["riskLevel"] != "High" {
				t.Errorf("migration update -o yaml = %v", got)
			}
		}},
		{"migration execute", func(t *testing.T) {
			var got map[string]any
			yamlOf(t, &got, "migration", "execute", m.MigrationID, "--dry-run", "--queue")
			if !strings.HasPrefix(got["executionId"].(string), "exec-") {
				t.Errorf("migration execute -o yaml = %v", got)
			}
		}},
		{"migration submit", func(t *testing.T) {
			var got map[string]any
			yamlOf(t, &got, "migration", "submit", m.MigrationID, "--notes", "please review")
			if got["migrationId"] != m.MigrationID || got["status"] == "" {
				t.Errorf("migration submit -o yaml = %v", got)
			}
		}},
		{"migration import", func(t *testing.T) {
			dir := t.TempDir()
			writeIn(t, dir, "001_out.up.sql", "CREATE TABLE out_i (id int);")
			writeIn(t, dir, "001_out.down.sql", "DROP TABLE out_i;")
			var got map[string]any
			yamlOf(t, &got, "migration", "import", dir, "--database", "out_db", "--dry-run")
			if got["format"] != "golang-migrate" {
				t.Errorf("migration import -o yaml = %v", got)
			}
		}},
		{"migration delete", func(t *testing.T) {
			m := createMigration(t, "out_db", "out_gone", "CREATE TABLE out_g (id int);")
			silent(t, "migration", "delete", m.MigrationID)
		}},
		{"database delete", func(t *testing.T) {
			registerDatabase(t, "out-host-2", "out_gone")
			silent(t, "database", "delete", "out_gone")
		}},
		{"operator snapshot save", func(t *testing.T) {
			var meta map[string]any
			yamlOf(t, &meta, "operator", "snapshot", "save", snapshotPath)
			if meta["index"].(int) < 1 || len(meta["sha256"].(string)) != 64 {
				t.Errorf("operator snapshot save -o yaml = %v", meta)
			}
		}},
		{"operator snapshot inspect", func(t *testing.T) {
			var meta map[string]any
			yamlOf(t, &meta, "operator", "snapshot", "inspect", snapshotPath)
			if meta["serverId"] == "" || meta["size"].(int) < 1 {
				t.Errorf("operator snapshot inspect -o yaml = %v", meta)
			}
		}},
		{"agent delete", func(t *testing.T) {
			mustHS(t, "agent", "token", "create", "out-gone")
			silent(t, "agent", "delete", "out-gone")
		}},
	}
}

// commandName is the command path of args: the words before the first
// argument that is not a command name.
func commandName(args []string) string {
	app := NewApp(io.Discard, io.Discard)
	path, _, _ := commandPath(app.Commands, args)
	return strings.Join(path, " ")
}

func TestWatchYAML(t *testing.T) {
	addr, _ := fakeExecution(t, execState(domain.ExecutionSucceeded, 100, "", 2))
	r := watchCLI(context.Background(), addr, "-o", "yaml")
	var got domain.Execution
	js, _ := json.Marshal(decodeYAML(t, r.stdout))
	if err := json.Unmarshal(js, &got); err != nil || r.code != ExitOK || got.Status != domain.ExecutionSucceeded {
		t.Errorf("watch -o yaml: exit %d, execution %+v (%v); want 0 and the final execution\n%s", r.code, got, err, r.stdout)
	}
}

func decodeYAML(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not YAML: %v\n%s", err, s)
	}
	return v
}

func TestOutputFlagRefusesUnknownFormats(t *testing.T) {
	r := runCLI(t, "", "-o", "xml", "version")
	if r.code != ExitUsage {
		t.Errorf("-o xml: exit %d, want %d", r.code, ExitUsage)
	}
	wantContains(t, "stderr", r.stderr, "want table, json or yaml")
}

func TestVersion(t *testing.T) {
	v := decode[versions](t, mustHS(t, "-o", "json", "version"))
	if v.Client != "dev" || v.Server != "dev" || v.ServerID == "" {
		t.Errorf("version = %+v, want the client's and the server's build versions (dev in tests) and the server id", v)
	}
	r := runCLI(t, "", "--address", "127.0.0.1:1", "version")
	if r.code != ExitError || !strings.Contains(r.stdout, "Client: dev") || !strings.Contains(r.stderr, "ask the server for its version") {
		t.Errorf("version with no server: exit %d, %q, %q; want the client's version and the error", r.code, r.stdout, r.stderr)
	}
}
