package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// TestBodyRefusalsAnswerAsDescribed sends every operation that reads a
// body one too large and one in the wrong media type: each is refused
// with 413 and 415, in the API's error format, and the answers validate
// against the description (specCheck), which lists both on each of them.
func TestBodyRefusalsAnswerAsDescribed(t *testing.T) {
	h := newHarness(t)
	f := h.addDatabase(t)
	m := h.addMigration(t, f, "c1")
	started, err := h.client.ExecuteMigration(context.Background(), m.MigrationID, api.ExecuteRequest{})
	if err != nil {
		t.Fatal(err)
	}
	user := loginToken(t, h)
	ids := strings.NewReplacer("/databases/{id}", "/databases/app", "/migrations/{id}", "/migrations/"+m.MigrationID,
		"{executionId}", started.ExecutionID)
	// Over every limit: the migration's, the largest, is about 10 MB.
	huge := bytes.Repeat([]byte(" "), 11<<20)
	for _, e := range api.Endpoints() {
		if e.Request == nil {
			continue
		}
		path := ids.Replace(e.Path)
		media, wrong := "application/json", "text/plain"
		if b, ok := e.Request.(api.Binary); ok {
			media, wrong = b.Types[0], "application/json"
		}
		token := h.token
		if e.Name == "CreateToken" {
			token = user // a token acts as a user: the bootstrap token may not make one
		}
		// A snapshot's limit is 1 GiB: TestRestoreRefusesTooLargeASnapshot.
		if _, file := e.Request.(api.Binary); !file {
			if got := sendBody(t, h, e.Method, path, token, media, huge); got.status != http.StatusRequestEntityTooLarge {
				t.Errorf("%s with an 11 MB body = %d %s, want 413", e.Name, got.status, truncate(string(got.body)))
			} else {
				got.errorBody(t)
			}
		}
		if got := sendBody(t, h, e.Method, path, token, wrong, []byte(`{"name":"x"}`)); got.status != http.StatusUnsupportedMediaType {
			t.Errorf("%s with a %s body = %d %s, want 415", e.Name, wrong, got.status, truncate(string(got.body)))
		} else {
			got.errorBody(t)
		}
	}
}

// TestRestoreRefusesTooLargeASnapshot: a restore whose body says it is
// over the snapshot limit (1 GiB and 1 MiB) is refused with 413 before a
// byte is read, as described.
func TestRestoreRefusesTooLargeASnapshot(t *testing.T) {
	h := newHarness(t)
	req := httptest.NewRequest(http.MethodPost, "/api/v1/operator/snapshot", strings.NewReader("HOTSWAP-SNAPSHOT 1\n"))
	req.ContentLength = 2 << 30
	req.Header.Set("Authorization", "Bearer "+h.token)
	req.Header.Set("Content-Type", api.SnapshotMediaType)
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 2 GiB restore = %d %s, want 413", rec.Code, rec.Body)
	}
	h.spec.check(t, req, nil, rec)
}

// loginToken creates a Developer user and returns a login token of theirs.
func loginToken(t *testing.T, h *harness) string {
	t.Helper()
	ctx := context.Background()
	const password = "a long enough passphrase"
	if _, err := h.client.CreateUser(ctx, api.CreateUserRequest{Username: "dev1", Password: password, Role: domain.RoleDeveloper}); err != nil {
		t.Fatal(err)
	}
	login, err := h.client.Login(ctx, "dev1", password)
	if err != nil {
		t.Fatal(err)
	}
	return login.Token
}

// sendBody sends body as contentType with token.
func sendBody(t *testing.T, h *harness, method, path, token, contentType string, body []byte) answer {
	t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", contentType)
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read the answer: %v", method, path, err)
	}
	return answer{status: resp.StatusCode, body: raw}
}
