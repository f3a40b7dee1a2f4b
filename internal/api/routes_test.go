package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/hotswap-db/hotswap/internal/domain"
)

func TestActionRequests(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name            string
		call            func(*Client) error
		method, path, q string
		wantBody        string
	}{
		{"plan", func(c *Client) error {
			_, err := c.PlanMigration(ctx, "mig-1", domain.Phased)
			return err
		}, http.MethodGet, "/api/v1/migrations/mig-1/plan", "strategy=Phased", ""},
		{"plan with the migration's strategy", func(c *Client) error {
			_, err := c.PlanMigration(ctx, "mig-1", "")
			return err
		}, http.MethodGet, "/api/v1/migrations/mig-1/plan", "", ""},
		{"pause", func(c *Client) error {
			_, err := c.PauseExecution(ctx, "mig-1", "exec-1", PauseRequest{Reason: "lunch"})
			return err
		}, http.MethodPost, "/api/v1/migrations/mig-1/executions/exec-1/pause", "", `{"reason":"lunch"}`},
		{"resume", func(c *Client) error {
			_, err := c.ResumeExecution(ctx, "mig-1", "exec-1", ResumeRequest{})
			return err
		}, http.MethodPost, "/api/v1/migrations/mig-1/executions/exec-1/resume", "", `{}`},
		{"resume with a new strategy", func(c *Client) error {
			_, err := c.ResumeExecution(ctx, "mig-1", "exec-1", ResumeRequest{Strategy: domain.Direct})
			return err
		}, http.MethodPost, "/api/v1/migrations/mig-1/executions/exec-1/resume", "", `{"strategy":"Direct"}`},
		{"metrics of an execution", func(c *Client) error {
			_, err := c.ExecutionMetrics(ctx, "mig-1", "exec-1", 42)
			return err
		}, http.MethodGet, "/api/v1/migrations/mig-1/executions/exec-1/metrics", "sinceMs=42", ""},
		{"join", func(c *Client) error {
			_, err := c.JoinCluster(ctx, JoinRequest{ID: "s2", RaftAddr: "h:1", HTTPAddr: "h:2", RPCAddr: "h:3"})
			return err
		}, http.MethodPost, "/api/v1/cluster/join", "", `{"id":"s2","raftAddr":"h:1","httpAddr":"h:2","rpcAddr":"h:3"}`},
		{"remove a server", func(c *Client) error { return c.RemoveServer(ctx, "s2") },
			http.MethodDelete, "/api/v1/cluster/servers/s2", "", ""},
		{"agent token", func(c *Client) error {
			_, err := c.CreateAgentToken(ctx, "host1")
			return err
		}, http.MethodPost, "/api/v1/agents", "", `{"name":"host1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := fakeAPI(t, http.StatusOK, `{}`)
			if err := tt.call(New(srv.URL, "t")); err != nil {
				t.Fatalf("error = %v", err)
			}
			if rec.method != tt.method || rec.path != tt.path || rec.query != tt.q || rec.body != tt.wantBody {
				t.Errorf("request = %s %s?%s %s, want %s %s?%s %s", rec.method, rec.path, rec.query, rec.body,
					tt.method, tt.path, tt.q, tt.wantBody)
			}
		})
	}
}

func TestPlanMigrationDecodesPhases(t *testing.T) {
	srv, _ := fakeAPI(t, http.StatusOK, `{"migrationId":"mig-1","databaseId":"db-1","plan":{"strategy":"Phased",
		"phases":[{"index":0,"name":"replica","explanation":"replicas first","steps":1}],
		"steps":[{"stepId":"s1","phase":"replica","agent":"h","instanceId":"r"}],"explanation":["replicas first"]}}`)
	got, err := New(srv.URL, "t").PlanMigration(context.Background(), "mig-1", "")
	if err != nil {
		t.Fatalf("PlanMigration() error = %v", err)
	}
	if got.DatabaseID != "db-1" || len(got.Plan.Phases) != 1 || got.Plan.Phases[0].Name != "replica" || len(got.Plan.Steps) != 1 {
		t.Errorf("PlanMigration() = %+v, want db-1 with one phase and one step", got)
	}
}

func TestPauseReturnsTheExecution(t *testing.T) {
	srv, _ := fakeAPI(t, http.StatusOK, `{"executionId":"exec-1","status":"Paused","pausedBy":"admin"}`)
	e, err := New(srv.URL, "t").PauseExecution(context.Background(), "mig-1", "exec-1", PauseRequest{})
	if err != nil || e.Status != domain.ExecutionPaused || e.PausedBy != "admin" {
		t.Errorf("PauseExecution() = %+v, %v; want Paused by admin", e, err)
	}
}

func TestMetricsIsText(t *testing.T) {
	srv, rec := fakeAPI(t, http.StatusOK, "# HELP x\nx 1\n")
	got, err := New(srv.URL, "").Metrics(context.Background())
	if err != nil || got != "# HELP x\nx 1\n" || rec.path != "/metrics" {
		t.Errorf("Metrics() = %q, %v (path %s); want the exposition text from /metrics", got, err, rec.path)
	}
}

func TestEmptyIDsRefusedBeforeSending(t *testing.T) {
	srv, rec := fakeAPI(t, http.StatusOK, `{}`)
	c := New(srv.URL, "t")
	ctx := context.Background()
	calls := map[string]func() error{
		"pause":   func() error { _, err := c.PauseExecution(ctx, "mig-1", "", PauseRequest{}); return err },
		"resume":  func() error { _, err := c.ResumeExecution(ctx, "", "exec-1", ResumeRequest{}); return err },
		"metrics": func() error { _, err := c.ExecutionMetrics(ctx, "mig-1", "", 0); return err },
		"plan":    func() error { _, err := c.PlanMigration(ctx, "", ""); return err },
		"remove":  func() error { return c.RemoveServer(ctx, "") },
	}
	for name, call := range calls {
		if err := call(); err == nil {
			t.Errorf("%s with an empty id: error = nil, want one", name)
		}
	}
	if rec.method != "" {
		t.Errorf("a request was sent: %s %s", rec.method, rec.path)
	}
}

func TestErrorBodyRoundTrip(t *testing.T) {
	raw, err := json.Marshal(ErrorBody{Error: ErrorDetail{Code: CodeConflict, Message: "busy"}})
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := fakeAPI(t, http.StatusConflict, string(raw))
	_, err = New(srv.URL, "t").GetMigration(context.Background(), "m")
	if !errors.Is(err, ErrConflict) || err.Error() != "busy" {
		t.Errorf("error = %v, want the server's ErrorBody decoded as a conflict", err)
	}
}
