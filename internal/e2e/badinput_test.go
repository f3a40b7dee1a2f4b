package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/testbed"
)

// TestBadInputs sends refused requests and checks each status, error code
// and message, and that nothing changed in the state.
func TestBadInputs(t *testing.T) {
	srv := testbed.StartServer(t, bins, testbed.ServerOptions{})
	tok := token(t, srv)
	a := newAPI(t, srv, tok, nil)
	var agentTok struct{ Token string }
	eventually(t, 10*time.Second, "the server to lead", func() bool {
		r := a.do("POST", "/api/v1/agents", map[string]string{"name": "host1"})
		if r.Status == http.StatusCreated {
			r.decode(t, &agentTok)
		}
		return r.Status == http.StatusCreated
	})
	var db struct{ DatabaseID string }
	a.must(http.StatusCreated, "POST", "/api/v1/databases", dbSpec("orders", "host1", "main")).decode(t, &db)
	var mig struct{ MigrationID string }
	a.must(http.StatusCreated, "POST", "/api/v1/migrations", migSpec("add_email", "orders")).decode(t, &mig)

	big := strings.Repeat("x", 2<<20)
	hugeScript := "SELECT 1;" + strings.Repeat(" ", 10<<20)
	sixMB := "SELECT 1;" + strings.Repeat(" ", 6<<20)
	cases := []struct {
		name       string
		method     string
		path       string
		body       string
		token      string // "" = the admin token; "-" = none
		wantStatus int
		wantCode   string
		wantInBody string
	}{
		{"no token", "GET", "/api/v1/databases", "", "-", 401, "UNAUTHORIZED", "Bearer"},
		{"wrong token", "GET", "/api/v1/databases", "", "hst_nope", 401, "UNAUTHORIZED", ""},
		{"agent token is not an API token", "GET", "/api/v1/databases", "", agentTok.Token, 401, "UNAUTHORIZED", ""},
		{"invalid JSON", "POST", "/api/v1/databases", `{"name":`, "", 400, "VALIDATION_ERROR", "invalid JSON"},
		{"empty body", "POST", "/api/v1/databases", ``, "", 400, "VALIDATION_ERROR", "empty"},
		{"unknown field", "POST", "/api/v1/databases", withField(dbSpec("x", "host1", "a"), "colour", "red"), "", 400, "VALIDATION_ERROR", "colour"},
		{"connection string with password", "POST", "/api/v1/databases",
			withField(dbSpec("x", "host1", "a"), "masterConnectionString", "Host=db;Username=u;Password=hunter2"), "", 400, "VALIDATION_ERROR", "agent"},
		{"DSN with password in a label", "POST", "/api/v1/databases",
			withField(dbSpec("x", "host1", "a"), "labels", map[string]string{"src": "postgres://u:hunter2@db/app"}), "", 400, "VALIDATION_ERROR", "agent"},
		{"missing name", "POST", "/api/v1/databases", js(dbSpec("", "host1", "a")), "", 400, "VALIDATION_ERROR", "name"},
		{"unknown type", "POST", "/api/v1/databases", withField(dbSpec("x", "host1", "a"), "type", "Mongo"), "", 400, "VALIDATION_ERROR", "type"},
		{"two masters", "POST", "/api/v1/databases", withField(dbSpec("x", "host1", "a"), "instances", []map[string]string{
			{"agent": "host1", "instanceId": "a", "role": "Master"}, {"agent": "host1", "instanceId": "b", "role": "Master"}}), "", 400, "VALIDATION_ERROR", "exactly one"},
		{"unknown agent", "POST", "/api/v1/databases", js(dbSpec("x", "nobody", "a")), "", 400, "VALIDATION_ERROR", "nobody"},
		{"duplicate database", "POST", "/api/v1/databases", js(dbSpec("orders", "host1", "other")), "", 409, "CONFLICT", "orders"},
		{"instance in two databases", "POST", "/api/v1/databases", js(dbSpec("x", "host1", "main")), "", 409, "CONFLICT", "main"},
		{"oversized body", "POST", "/api/v1/databases", `{"name":"` + big + `"}`, "", 413, "PAYLOAD_TOO_LARGE", "limit"},
		{"two 6 MB scripts", "POST", "/api/v1/migrations", withFields(migSpec("x", "orders"), map[string]any{
			"migrationScript": sixMB, "rollbackScript": sixMB}), "", 413, "PAYLOAD_TOO_LARGE", "limit"},
		{"15 MB description", "POST", "/api/v1/migrations", withField(migSpec("x", "orders"), "description", strings.Repeat("d", 15<<20)), "", 413, "PAYLOAD_TOO_LARGE", "limit"},
		{"5 KB description", "POST", "/api/v1/migrations", withField(migSpec("x", "orders"), "description", strings.Repeat("d", 5000)), "", 400, "VALIDATION_ERROR", "4096"},
		{"PGPASSWORD in a description", "POST", "/api/v1/migrations", withField(migSpec("x", "orders"), "description", "PGPASSWORD=hunter2 psql"), "", 400, "VALIDATION_ERROR", "agent"},
		{"Password: in a description", "POST", "/api/v1/migrations", withField(migSpec("x", "orders"), "description", "Password: hunter2"), "", 400, "VALIDATION_ERROR", "agent"},
		{"DSN in a description", "POST", "/api/v1/migrations", withField(migSpec("x", "orders"), "description", "host=db user=u password=hunter2"), "", 400, "VALIDATION_ERROR", "agent"},
		{"URL password with a slash in a label", "POST", "/api/v1/databases",
			withField(dbSpec("x", "host1", "a"), "labels", map[string]string{"src": "postgres://u:hun/ter2@db/app"}), "", 400, "VALIDATION_ERROR", "agent"},
		{"DSN in a tag", "POST", "/api/v1/migrations", withField(migSpec("x", "orders"), "tags", []string{"u:hunter2@tcp(db:3306)/app"}), "", 400, "VALIDATION_ERROR", "agent"},
		{"token with a leading space", "GET", "/api/v1/databases", "", " " + tok, 401, "UNAUTHORIZED", ""},
		{"database not found", "GET", "/api/v1/databases/nope", "", "", 404, "NOT_FOUND", "nope"},
		{"update unknown database", "PUT", "/api/v1/databases/nope", js(dbSpec("x", "host1", "a")), "", 404, "NOT_FOUND", ""},
		{"delete database with migrations", "DELETE", "/api/v1/databases/" + db.DatabaseID, "", "", 409, "CONFLICT", "migrations"},
		{"migration name pattern", "POST", "/api/v1/migrations", withField(migSpec("x", "orders"), "name", "Add-Col"), "", 400, "VALIDATION_ERROR", "lowercase"},
		{"migration syntax error", "POST", "/api/v1/migrations", withField(migSpec("x", "orders"), "migrationScript",
			"ALTER TABLE users ADD COLUMN a int;\nCREATE TABEL t (id int);"), "", 400, "VALIDATION_ERROR", "line 2, column 8"},
		{"rollback syntax error", "POST", "/api/v1/migrations", withField(migSpec("x", "orders"), "rollbackScript", "DROP COLUM x"), "", 400, "VALIDATION_ERROR", "rollbackScript"},
		{"missing rollback", "POST", "/api/v1/migrations", withField(migSpec("x", "orders"), "rollbackScript", ""), "", 400, "VALIDATION_ERROR", "rollbackScript"},
		{"script over 10 MB", "POST", "/api/v1/migrations", withField(migSpec("x", "orders"), "migrationScript", hugeScript), "", 400, "VALIDATION_ERROR", "10 MB"},
		{"unknown target database", "POST", "/api/v1/migrations", js(migSpec("x", "nowhere")), "", 400, "VALIDATION_ERROR", "targetDatabaseId"},
		{"unknown dependency", "POST", "/api/v1/migrations", withField(migSpec("x", "orders"), "dependencies", []string{"mig-nope"}), "", 400, "VALIDATION_ERROR", "mig-nope"},
		{"unknown strategy", "POST", "/api/v1/migrations", withField(migSpec("x", "orders"), "strategy", "YOLO"), "", 400, "VALIDATION_ERROR", "strategy"},
		{"unknown risk level", "POST", "/api/v1/migrations", withField(migSpec("x", "orders"), "riskLevel", "Extreme"), "", 400, "VALIDATION_ERROR", "riskLevel"},
		{"script of the wrong type", "POST", "/api/v1/migrations", withField(migSpec("x", "orders"), "migrationScript", 42), "", 400, "VALIDATION_ERROR", "migrationScript"},
		{"duplicate migration", "POST", "/api/v1/migrations", js(migSpec("add_email", "orders")), "", 409, "CONFLICT", "add_email"},
		{"migration not found", "GET", "/api/v1/migrations/mig-nope", "", "", 404, "NOT_FOUND", ""},
		{"bad limit", "GET", "/api/v1/migrations?limit=0", "", "", 400, "VALIDATION_ERROR", "limit"},
		{"bad status filter", "GET", "/api/v1/migrations?status=Bogus", "", "", 400, "VALIDATION_ERROR", "status"},
		{"duplicate agent", "POST", "/api/v1/agents", `{"name":"host1"}`, "", 409, "CONFLICT", "host1"},
		{"bad agent name", "POST", "/api/v1/agents", `{"name":"bad name!"}`, "", 400, "VALIDATION_ERROR", "name"},
		{"delete agent serving a database", "DELETE", "/api/v1/agents/host1", "", "", 409, "CONFLICT", "orders"},
		{"unknown endpoint", "GET", "/api/v1/nothing", "", "", 404, "NOT_FOUND", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := stateDump(t, a)
			token := tc.token
			switch token {
			case "":
				token = tok
			case "-":
				token = ""
			}
			got := a.raw(tc.method, tc.path, []byte(tc.body), token)
			if got.Status != tc.wantStatus || got.errorCode() != tc.wantCode {
				t.Fatalf("got %d %s, want %d %s: %.300s", got.Status, got.errorCode(), tc.wantStatus, tc.wantCode, got.Body)
			}
			if !strings.Contains(string(got.Body), tc.wantInBody) {
				t.Errorf("body %.300s does not mention %q", got.Body, tc.wantInBody)
			}
			if after := stateDump(t, a); after != before {
				t.Errorf("a refused request changed the state:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
	before := stateDump(t, a)
	req, _ := http.NewRequest("POST", srv.URL()+"/api/v1/agents", strings.NewReader(`{"name":"plain"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("a text/plain body: status %d, want 415", resp.StatusCode)
	}
	if after := stateDump(t, a); after != before {
		t.Errorf("a refused text/plain request changed the state")
	}
}

func dbSpec(name, agent, instance string) map[string]any {
	return map[string]any{"name": name, "type": "PostgreSQL", "environment": "Production",
		"instances": []map[string]string{{"agent": agent, "instanceId": instance, "role": "Master"}}}
}

func migSpec(name, db string) map[string]any {
	return map[string]any{"name": name, "targetDatabaseId": db, "strategy": "Direct", "riskLevel": "Low",
		"migrationScript": "ALTER TABLE users ADD COLUMN email text;",
		"rollbackScript":  "ALTER TABLE users DROP COLUMN email;"}
}

func withField(spec map[string]any, key string, value any) string {
	spec[key] = value
	return js(spec)
}

func withFields(spec map[string]any, fields map[string]any) string {
	for k, v := range fields {
		spec[k] = v
	}
	return js(spec)
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// stateDump renders what the API shows of databases, migrations and agents.
func stateDump(t *testing.T, a *api) string {
	t.Helper()
	var out strings.Builder
	for _, p := range []string{"/api/v1/databases", "/api/v1/migrations?limit=1000", "/api/v1/agents"} {
		r := a.raw("GET", p, nil, a.token)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s = %d", p, r.Status)
		}
		out.Write(stripVolatile(r.Body))
	}
	return out.String()
}

// stripVolatile drops fields that change on their own (last seen times).
func stripVolatile(b []byte) []byte {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return b
	}
	if m, ok := v.(map[string]any); ok {
		if agents, ok := m["agents"].([]any); ok {
			for _, ag := range agents {
				delete(ag.(map[string]any), "lastSeen")
			}
		}
	}
	out, _ := json.Marshal(v)
	return out
}
