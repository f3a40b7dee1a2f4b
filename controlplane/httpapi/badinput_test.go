package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

func TestAuthRequired(t *testing.T) {
	h := newHarness(t)
	routes := []struct{ method, path, body string }{
		{http.MethodGet, "/api/v1/databases", ""},
		{http.MethodPost, "/api/v1/databases", `{"name":"x"}`},
		{http.MethodGet, "/api/v1/migrations", ""},
		{http.MethodPost, "/api/v1/agents", `{"name":"h"}`},
		{http.MethodGet, "/api/v1/cluster", ""},
		{http.MethodPost, "/api/v1/migrations/mig-1/executions/exec-1/pause", ""},
	}
	for _, rt := range routes {
		for _, token := range []string{"", "hst_not-a-token"} {
			before := h.view()
			a := h.do(t, rt.method, rt.path, token, rt.body)
			if a.status != http.StatusUnauthorized {
				t.Errorf("%s %s with token %q: status %d, want 401", rt.method, rt.path, token, a.status)
				continue
			}
			if got := a.errorBody(t); got.Code != api.CodeUnauthorized || !strings.Contains(got.Message, "Bearer") {
				t.Errorf("%s %s: error %+v, want UNAUTHORIZED saying how to send the token", rt.method, rt.path, got)
			}
			h.unchanged(t, before)
		}
	}
	if a := h.do(t, http.MethodGet, "/api/v1/databases", adminToken, ""); a.status != http.StatusOK {
		t.Errorf("GET /api/v1/databases with the admin token: status %d %s, want 200", a.status, a.body)
	}
	if _, err := api.New(h.srv.URL, "").ListDatabases(context.Background()); !errors.Is(err, api.ErrUnauthorized) {
		t.Errorf("client without a token: error = %v, want api.ErrUnauthorized", err)
	}
}

func TestBadJSONIsRefusedAndChangesNothing(t *testing.T) {
	h := newHarness(t)
	f := h.addDatabase(t)
	m := h.addMigration(t, f, "c1")
	execPath := "/api/v1/migrations/" + m.MigrationID + "/execute"
	tests := []struct {
		name, method, path, body string
		want                     string // in the message
	}{
		{"broken database", http.MethodPost, "/api/v1/databases", `{"name": "x",`, "invalid JSON"},
		{"unknown database field", http.MethodPost, "/api/v1/databases",
			`{"name":"x","type":"PostgreSQL","environment":"QA","instances":[],"colour":"red"}`, "colour"},
		{"wrong type", http.MethodPost, "/api/v1/databases", `{"name": 7}`, `"name"`},
		{"empty body", http.MethodPost, "/api/v1/databases", ``, "empty"},
		{"two objects", http.MethodPost, "/api/v1/agents", `{"name":"a"}{"name":"b"}`, "after the object"},
		{"broken migration", http.MethodPost, "/api/v1/migrations", `[1, 2`, "invalid JSON"},
		{"unknown migration field", http.MethodPost, "/api/v1/migrations",
			`{"name":"m","targetDatabaseId":"app","migrationScript":"SELECT 1;","rollbackScript":"SELECT 1;","owner":"me"}`, "owner"},
		{"unknown execute field", http.MethodPost, execPath, `{"strategy":"Direct","hurry":true}`, "hurry"},
		{"broken execute", http.MethodPost, execPath, `{"dryRun": yes}`, "invalid JSON"},
		{"unknown join field", http.MethodPost, "/api/v1/cluster/join", `{"id":"s2","raftAddr":"h:1","httpAddr":"h:2","rpcAddr":"h:3","vote":1}`, "vote"},
		{"invalid migration", http.MethodPost, "/api/v1/migrations",
			`{"name":"m","targetDatabaseId":"app","migrationScript":"ALTER TABLE;","rollbackScript":"SELECT 1;"}`, "validation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.view()
			a := h.do(t, tt.method, tt.path, adminToken, tt.body)
			if a.status != http.StatusBadRequest {
				t.Fatalf("status %d %s, want 400", a.status, a.body)
			}
			got := a.errorBody(t)
			if got.Code != api.CodeValidation || !strings.Contains(got.Message+detailsText(got), tt.want) {
				t.Errorf("error %+v, want VALIDATION_ERROR mentioning %q", got, tt.want)
			}
			h.unchanged(t, before)
		})
	}
}

func TestSyntaxErrorNamesTheScript(t *testing.T) {
	h := newHarness(t)
	f := h.addDatabase(t)
	before := h.view()
	_, err := h.client.CreateMigration(context.Background(), domain.MigrationSpec{Name: "bad", TargetDatabaseID: f.db.DatabaseID,
		MigrationScript: "ALTER TABLE t ADD COLUMN;", RollbackScript: "SELECT 1;"})
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || len(ae.Details) == 0 || ae.Details[0].Field != "migrationScript" {
		t.Fatalf("CreateMigration() with a syntax error: error = %v, want a 400 naming migrationScript", err)
	}
	h.unchanged(t, before)
}

func TestCredentialsInAPayloadAreRefused(t *testing.T) {
	h := newHarness(t)
	h.addDatabase(t)
	bodies := map[string]string{
		"dsn field": `{"name":"x","type":"PostgreSQL","environment":"QA","instances":[{"agent":"pg-host","instanceId":"main","role":"Master",
			"dsn":"host=db1 user=app"}]}`,
		"password field":       `{"name":"x","type":"PostgreSQL","environment":"QA","password":"s3cret-pw","instances":[]}`,
		"url with a password":  `{"name":"x","type":"PostgreSQL","environment":"QA","description":"postgres://app:s3cret-pw@db1/app","instances":[]}`,
		"password= in a value": `{"name":"x","type":"PostgreSQL","environment":"QA","labels":{"conn":"host=db1 password=s3cret-pw"},"instances":[]}`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			for _, method := range []string{http.MethodPost, http.MethodPut} {
				path := "/api/v1/databases"
				if method == http.MethodPut {
					path += "/app"
				}
				before := h.view()
				a := h.do(t, method, path, adminToken, body)
				if a.status != http.StatusBadRequest {
					t.Fatalf("%s %s: status %d %s, want 400", method, path, a.status, a.body)
				}
				got := a.errorBody(t)
				if got.Code != api.CodeValidation || !strings.Contains(detailsText(got), "hotswap-agent config") {
					t.Errorf("%s: error %+v, want a 400 saying credentials go in the agent's config", method, got)
				}
				if strings.Contains(string(a.body), "s3cret-pw") {
					t.Errorf("%s: the answer quotes the password: %s", method, a.body)
				}
				h.unchanged(t, before)
			}
		})
	}
}

func TestUnknownIDsAre404(t *testing.T) {
	h := newHarness(t)
	f := h.addDatabase(t)
	m := h.addMigration(t, f, "c1")
	mig := "/api/v1/migrations/" + m.MigrationID
	routes := []struct{ method, path, body string }{
		{http.MethodGet, "/api/v1/databases/db-nope", ""},
		{http.MethodPut, "/api/v1/databases/db-nope", `{"name":"x","type":"PostgreSQL","environment":"QA","instances":[]}`},
		{http.MethodDelete, "/api/v1/databases/db-nope", ""},
		{http.MethodGet, "/api/v1/databases/db-nope/health", ""},
		{http.MethodGet, "/api/v1/databases/db-nope/history", ""},
		{http.MethodGet, "/api/v1/migrations/mig-nope", ""},
		{http.MethodDelete, "/api/v1/migrations/mig-nope", ""},
		{http.MethodPost, "/api/v1/migrations/mig-nope/execute", `{}`},
		{http.MethodGet, "/api/v1/migrations/mig-nope/plan", ""},
		{http.MethodGet, "/api/v1/migrations/mig-nope/executions", ""},
		{http.MethodGet, mig + "/executions/exec-nope", ""},
		{http.MethodGet, mig + "/executions/exec-nope/metrics", ""},
		{http.MethodPost, mig + "/executions/exec-nope/rollback", `{"reason":"x"}`},
		{http.MethodPost, mig + "/executions/exec-nope/pause", ``},
		{http.MethodPost, mig + "/executions/exec-nope/resume", ``},
		{http.MethodGet, "/api/v1/agents/nobody", ""},
		{http.MethodDelete, "/api/v1/agents/nobody", ""},
		{http.MethodGet, "/api/v1/nothing-here", ""},
	}
	for _, rt := range routes {
		before := h.view()
		a := h.do(t, rt.method, rt.path, adminToken, rt.body)
		if a.status != http.StatusNotFound {
			t.Errorf("%s %s: status %d %s, want 404", rt.method, rt.path, a.status, a.body)
			continue
		}
		if got := a.errorBody(t); got.Code != api.CodeNotFound {
			t.Errorf("%s %s: code %s, want NOT_FOUND", rt.method, rt.path, got.Code)
		}
		h.unchanged(t, before)
	}
	if _, err := h.client.GetExecution(context.Background(), m.MigrationID, "exec-nope"); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("GetExecution(exec-nope) error = %v, want api.ErrNotFound", err)
	}
}

func TestBusyDatabaseIs409(t *testing.T) {
	h := newHarness(t)
	f := h.addDatabase(t)
	first, second := h.addMigration(t, f, "c1"), h.addMigration(t, f, "c2")
	ctx := context.Background()
	running, err := h.client.ExecuteMigration(ctx, first.MigrationID, api.ExecuteRequest{})
	if err != nil {
		t.Fatalf("ExecuteMigration(first) error = %v", err)
	}
	before := h.view()
	_, err = h.client.ExecuteMigration(ctx, second.MigrationID, api.ExecuteRequest{})
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusConflict || ae.Code != api.CodeConflict ||
		!strings.Contains(ae.Message, running.ExecutionID) {
		t.Fatalf("ExecuteMigration(second) while %s is on the database: error = %v, want a 409 naming it", running.ExecutionID, err)
	}
	h.unchanged(t, before)

	queued, err := h.client.ExecuteMigration(ctx, second.MigrationID, api.ExecuteRequest{Queue: true})
	if err != nil || !queued.Queued || queued.Status != domain.ExecutionPending {
		t.Fatalf("ExecuteMigration(second, queue) = %+v, %v; want a queued Pending execution", queued, err)
	}
}

func detailsText(d api.ErrorDetail) string {
	var b strings.Builder
	for _, f := range d.Details {
		b.WriteString(f.Field + ": " + f.Message + "\n")
	}
	return b.String()
}

func TestOversizedInputIsRefusedAndChangesNothing(t *testing.T) {
	h := newHarness(t)
	f := h.addDatabase(t)
	mb := 1 << 20
	migration := func(description, script, rollback string, tags int) string {
		tagList := make([]string, tags)
		for i := range tagList {
			tagList[i] = `"t` + strings.Repeat("x", i%5) + `"`
		}
		return `{"name":"big","targetDatabaseId":"` + f.db.DatabaseID + `","description":"` + description +
			`","migrationScript":"` + script + `","rollbackScript":"` + rollback + `","tags":[` + strings.Join(tagList, ",") + `]}`
	}
	sixMB := "SELECT 1;" + strings.Repeat(" ", 6*mb)
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantCode   string
		want       string // in the message or details
	}{
		{"two 6 MB scripts", migration("d", sixMB, sixMB, 0), http.StatusRequestEntityTooLarge, api.CodePayloadTooLarge, "exceeds the limit"},
		{"15 MB description", migration(strings.Repeat("d", 15*mb), "SELECT 1;", "SELECT 1;", 0),
			http.StatusRequestEntityTooLarge, api.CodePayloadTooLarge, "exceeds the limit"},
		{"5 KB description", migration(strings.Repeat("d", 5000), "SELECT 1;", "SELECT 1;", 0),
			http.StatusBadRequest, api.CodeValidation, "description: at most 4096 bytes"},
		{"40 tags", migration("d", "SELECT 1;", "SELECT 1;", 40), http.StatusBadRequest, api.CodeValidation, "tags: at most 32"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.view()
			a := h.do(t, http.MethodPost, "/api/v1/migrations", adminToken, tt.body)
			if a.status != tt.wantStatus {
				t.Fatalf("status %d %.300s, want %d", a.status, a.body, tt.wantStatus)
			}
			if got := a.errorBody(t); got.Code != tt.wantCode || !strings.Contains(got.Message+detailsText(got), tt.want) {
				t.Errorf("error %+v, want %s mentioning %q", got, tt.wantCode, tt.want)
			}
			h.unchanged(t, before)
		})
	}
	before := h.view()
	big := `{"name":"x","type":"PostgreSQL","environment":"QA","labels":{"a":"` + strings.Repeat("v", 2*mb) + `"},"instances":[]}`
	if a := h.do(t, http.MethodPost, "/api/v1/databases", adminToken, big); a.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a 2 MB database registration: status %d, want 413", a.status)
	}
	h.unchanged(t, before)
}

func TestBodyMustBeSentAsJSON(t *testing.T) {
	h := newHarness(t)
	body := `{"name":"ct-agent"}`
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"} {
		before := h.view()
		req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/api/v1/agents", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+adminToken)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("Content-Type %q: status %d, want 415", ct, resp.StatusCode)
		}
		h.unchanged(t, before)
	}
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/api/v1/agents", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		t.Errorf("Content-Type application/json; charset=utf-8: status %d, want success", resp.StatusCode)
	}
}

func TestTokenIsComparedExactly(t *testing.T) {
	h := newHarness(t)
	for _, token := range []string{" " + adminToken, "\t" + adminToken, adminToken[:len(adminToken)-1], adminToken + "x"} {
		if a := h.do(t, http.MethodGet, "/api/v1/databases", token, ""); a.status != http.StatusUnauthorized {
			t.Errorf("token %q: status %d, want 401", token, a.status)
		}
	}
	if a := h.do(t, http.MethodGet, "/api/v1/databases", adminToken, ""); a.status != http.StatusOK {
		t.Errorf("the exact token: status %d, want 200", a.status)
	}
}

func TestCredentialsInFreeTextAreRefused(t *testing.T) {
	h := newHarness(t)
	f := h.addDatabase(t)
	migration := func(field, value string) string {
		fields := map[string]string{"description": `"d"`, "tags": `["t"]`}
		fields[field] = value
		return `{"name":"m","targetDatabaseId":"` + f.db.DatabaseID + `","migrationScript":"SELECT 1;","rollbackScript":"SELECT 1;",` +
			`"description":` + fields["description"] + `,"tags":` + fields["tags"] + `}`
	}
	database := func(labels string) string {
		return `{"name":"x","type":"PostgreSQL","environment":"QA","labels":` + labels + `,
			"instances":[{"agent":"pg-host","instanceId":"main","role":"Master"}]}`
	}
	tests := []struct{ name, method, path, body, field string }{
		{"PGPASSWORD in a description", http.MethodPost, "/api/v1/migrations", migration("description", `"run with PGPASSWORD=s3cret-pw"`), "description"},
		{"Password: in a description", http.MethodPost, "/api/v1/migrations", migration("description", `"Password: s3cret-pw"`), "description"},
		{"DSN in a description", http.MethodPost, "/api/v1/migrations", migration("description", `"host=db1 user=app password=s3cret-pw"`), "description"},
		{"URL password with a slash in a tag", http.MethodPost, "/api/v1/migrations", migration("tags", `["postgres://app:s3cret-pw/x@db1/app"]`), "tags[0]"},
		{"MySQL DSN in a tag", http.MethodPost, "/api/v1/migrations", migration("tags", `["app:s3cret-pw@tcp(db1:3306)/shop"]`), "tags[0]"},
		{"URL password with a slash in a label", http.MethodPost, "/api/v1/databases", database(`{"conn":"postgres://app:s3cret-pw/x@db1/app"}`), "labels.conn"},
		{"env var in a label", http.MethodPost, "/api/v1/databases", database(`{"how":"MYSQL_PWD=s3cret-pw"}`), "labels.how"},
		{"key: value in a label", http.MethodPost, "/api/v1/databases", database(`{"note":"password: s3cret-pw"}`), "labels.note"},
		{"credential label key", http.MethodPost, "/api/v1/databases", database(`{"dsn":"x"}`), "labels.dsn"},
		{"agent name", http.MethodPost, "/api/v1/agents", `{"name":"PGPASSWORD=s3cret-pw"}`, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.view()
			a := h.do(t, tt.method, tt.path, adminToken, tt.body)
			if a.status != http.StatusBadRequest {
				t.Fatalf("status %d %s, want 400", a.status, a.body)
			}
			got := a.errorBody(t)
			if got.Code != api.CodeValidation || len(got.Details) == 0 || got.Details[0].Field != tt.field ||
				!strings.Contains(detailsText(got), "hotswap-agent config") {
				t.Errorf("error %+v, want a 400 naming %s and saying credentials go in the agent's config", got, tt.field)
			}
			if strings.Contains(string(a.body), "s3cret-pw") {
				t.Errorf("the answer quotes the password: %s", a.body)
			}
			h.unchanged(t, before)
		})
	}
	// A script may name a password column: scripts are SQL, judged by the linter.
	ok := `{"name":"pw_col","targetDatabaseId":"` + f.db.DatabaseID + `","migrationScript":"ALTER TABLE t ADD COLUMN password_hash text;",` +
		`"rollbackScript":"ALTER TABLE t DROP COLUMN password_hash;","description":"store password hashes"}`
	if a := h.do(t, http.MethodPost, "/api/v1/migrations", adminToken, ok); a.status != http.StatusCreated {
		t.Errorf("a migration adding a password_hash column: status %d %s, want 201", a.status, a.body)
	}
}
