package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// recorded is what the fake server saw of one request.
type recorded struct {
	method, path, query, auth, contentType string
	body                                   string
}

// fakeAPI answers every request with status and body, and records it.
func fakeAPI(t *testing.T, status int, body string) (*httptest.Server, *recorded) {
	t.Helper()
	rec := &recorded{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		*rec = recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"),
			r.Header.Get("Content-Type"), string(b)}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Trace-Id", "trace-header")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, rec
}

func TestBearerHeaderAndRequest(t *testing.T) {
	srv, rec := fakeAPI(t, http.StatusCreated, `{"databaseId":"db-1","name":"app","type":"PostgreSQL"}`)
	c := New(srv.URL, "hst_secret")
	spec := domain.DatabaseSpec{Name: "app", Type: domain.PostgreSQL}
	got, err := c.CreateDatabase(context.Background(), spec)
	if err != nil {
		t.Fatalf("CreateDatabase() error = %v", err)
	}
	if got.DatabaseID != "db-1" || got.Type != domain.PostgreSQL {
		t.Errorf("CreateDatabase() = %+v, want db-1 PostgreSQL", got)
	}
	if rec.auth != "Bearer hst_secret" {
		t.Errorf("Authorization = %q, want %q", rec.auth, "Bearer hst_secret")
	}
	if rec.method != http.MethodPost || rec.path != "/api/v1/databases" || rec.contentType != "application/json" {
		t.Errorf("request = %s %s (%s), want POST /api/v1/databases (application/json)", rec.method, rec.path, rec.contentType)
	}
	var sent domain.DatabaseSpec
	if err := json.Unmarshal([]byte(rec.body), &sent); err != nil || sent.Name != "app" {
		t.Errorf("body = %s, want the spec", rec.body)
	}
}

func TestNoTokenSendsNoHeader(t *testing.T) {
	srv, rec := fakeAPI(t, http.StatusOK, `{"status":"ok"}`)
	if _, err := New(srv.URL, "").Health(context.Background()); err != nil {
		t.Fatalf("Health() error = %v", err)
	}
	if rec.auth != "" {
		t.Errorf("Authorization = %q, want none", rec.auth)
	}
}

func TestErrorDecoding(t *testing.T) {
	body := `{"error":{"code":"VALIDATION_ERROR","message":"request validation failed",
		"details":[{"field":"migrationScript","message":"SQL syntax error at line 2, column 1"},
		{"field":"name","message":"is required"}],"traceId":"trace-body","timestamp":"2026-01-02T03:04:05Z"}}`
	srv, _ := fakeAPI(t, http.StatusBadRequest, body)
	_, err := New(srv.URL, "t").CreateMigration(context.Background(), domain.MigrationSpec{})
	var ae *Error
	if !errors.As(err, &ae) {
		t.Fatalf("error = %T %v, want *Error", err, err)
	}
	if ae.Status != 400 || ae.Code != CodeValidation || ae.TraceID != "trace-body" || len(ae.Details) != 2 {
		t.Errorf("APIError = %+v, want 400 VALIDATION_ERROR trace-body with 2 details", ae)
	}
	want := "request validation failed\n  migrationScript: SQL syntax error at line 2, column 1\n  name: is required"
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestStatusMapping(t *testing.T) {
	tests := []struct {
		status int
		want   error
	}{
		{http.StatusBadRequest, ErrValidation},
		{http.StatusUnauthorized, ErrUnauthorized},
		{http.StatusForbidden, ErrForbidden},
		{http.StatusNotFound, ErrNotFound},
		{http.StatusConflict, ErrConflict},
		{http.StatusServiceUnavailable, ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			srv, _ := fakeAPI(t, tt.status, `{"error":{"code":"X","message":"nope"}}`)
			_, err := New(srv.URL, "t").GetDatabase(context.Background(), "app")
			if !errors.Is(err, tt.want) {
				t.Errorf("GetDatabase() error = %v, want errors.Is %v", err, tt.want)
			}
			for _, other := range tests {
				if other.want != tt.want && errors.Is(err, other.want) {
					t.Errorf("error for %d also matches %v", tt.status, other.want)
				}
			}
		})
	}
}

func TestNonJSONErrorBody(t *testing.T) {
	srv, _ := fakeAPI(t, http.StatusBadGateway, "<html>bad gateway</html>")
	err := New(srv.URL, "t").DeleteAgent(context.Background(), "host1")
	var ae *Error
	if !errors.As(err, &ae) || ae.Status != http.StatusBadGateway {
		t.Fatalf("error = %v, want *Error with status 502", err)
	}
	for _, want := range []string{"DELETE /api/v1/agents/host1", "502 Bad Gateway", "<html>bad gateway</html>", "trace-header"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Error() = %q, want it to contain %q", err.Error(), want)
		}
	}
}

func TestNoContentAndPaths(t *testing.T) {
	tests := []struct {
		name     string
		call     func(*Client) error
		wantPath string
		wantQ    string
	}{
		{"delete database", func(c *Client) error { return c.DeleteDatabase(context.Background(), "a b/c") },
			"/api/v1/databases/a b/c", ""},
		{"database health", func(c *Client) error {
			_, err := c.DatabaseHealth(context.Background(), "app")
			return err
		}, "/api/v1/databases/app/health", ""},
		{"list migrations", func(c *Client) error {
			_, err := c.ListMigrations(context.Background(), ListMigrationsRequest{Status: domain.MigrationDraft, Database: "app", Limit: 5, Offset: 10})
			return err
		}, "/api/v1/migrations", "database=app&limit=5&offset=10&status=Draft"},
		{"list migrations no filter", func(c *Client) error {
			_, err := c.ListMigrations(context.Background(), ListMigrationsRequest{})
			return err
		}, "/api/v1/migrations", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := fakeAPI(t, http.StatusNoContent, "")
			if err := tt.call(New(srv.URL, "t")); err != nil {
				t.Fatalf("error = %v", err)
			}
			if rec.path != tt.wantPath || rec.query != tt.wantQ {
				t.Errorf("request = %s?%s, want %s?%s", rec.path, rec.query, tt.wantPath, tt.wantQ)
			}
		})
	}
}

func TestEmptyIDRefused(t *testing.T) {
	srv, rec := fakeAPI(t, http.StatusOK, `{}`)
	if _, err := New(srv.URL, "t").GetMigration(context.Background(), ""); err == nil {
		t.Fatal("GetMigration(\"\") error = nil, want an error")
	}
	if rec.method != "" {
		t.Errorf("a request was sent: %s %s", rec.method, rec.path)
	}
}

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"127.0.0.1:5000", "http://127.0.0.1:5000", false},
		{"http://10.0.0.1:5000/", "http://10.0.0.1:5000", false},
		{"https://hotswap.example.com/base/", "https://hotswap.example.com/base", false},
		{"  localhost:5000 ", "http://localhost:5000", false},
		{"", "", true},
		{"ftp://x:21", "", true},
		{"http://", "", true},
	}
	for _, tt := range tests {
		got, err := ParseAddress(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseAddress(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && got.String() != tt.want {
			t.Errorf("ParseAddress(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestInvalidAddressReportedOnCall(t *testing.T) {
	c := New("ftp://nowhere", "t")
	if _, err := c.ListDatabases(context.Background()); err == nil || !strings.Contains(err.Error(), "scheme") {
		t.Errorf("ListDatabases() error = %v, want an invalid address error", err)
	}
}

func TestUnreachableServer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	_, err := New(addr, "t").ClusterStatus(context.Background())
	var ae *Error
	if err == nil || errors.As(err, &ae) || !strings.Contains(err.Error(), "cannot reach the control plane") {
		t.Errorf("ClusterStatus() error = %v, want a transport error", err)
	}
}
