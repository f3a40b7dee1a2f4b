package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/hotswap-db/hotswap/internal/domain"
)

func TestExecuteMigration(t *testing.T) {
	srv, rec := fakeAPI(t, http.StatusAccepted, `{"executionId":"exec-1","migrationId":"mig-1","status":"Pending",
		"queued":true,"createdAt":"2026-01-02T03:04:05Z","estimatedDuration":30,"plan":{"strategy":"Direct",
		"steps":[{"stepId":"s1","phase":"master","direction":"forward","agent":"host1","instanceId":"main","status":"Pending"}],
		"explanation":["Direct: apply on the master host1/main"]}}`)
	req := ExecuteRequest{Strategy: domain.Direct, DryRun: true, Queue: true, LockTimeoutMs: 250}
	got, err := New(srv.URL, "t").ExecuteMigration(context.Background(), "mig-1", req)
	if err != nil {
		t.Fatalf("ExecuteMigration() error = %v", err)
	}
	if got.ExecutionID != "exec-1" || !got.Queued || got.Plan.Strategy != domain.Direct ||
		len(got.Plan.Steps) != 1 || got.Plan.Steps[0].Agent != "host1" || len(got.Plan.Explanation) != 1 {
		t.Errorf("ExecuteMigration() = %+v, want exec-1, queued, a Direct plan of one step on host1", got)
	}
	if rec.method != http.MethodPost || rec.path != "/api/v1/migrations/mig-1/execute" {
		t.Errorf("request = %s %s, want POST /api/v1/migrations/mig-1/execute", rec.method, rec.path)
	}
	var sent map[string]any
	if err := json.Unmarshal([]byte(rec.body), &sent); err != nil {
		t.Fatalf("body %s: %v", rec.body, err)
	}
	want := map[string]any{"strategy": "Direct", "dryRun": true, "queue": true, "lockTimeoutMs": float64(250)}
	if len(sent) != len(want) {
		t.Errorf("body = %s, want only %v (zero fields left to the server's defaults)", rec.body, want)
	}
	for k, v := range want {
		if sent[k] != v {
			t.Errorf("body[%q] = %v, want %v", k, sent[k], v)
		}
	}
}

func TestExecuteConflict(t *testing.T) {
	srv, _ := fakeAPI(t, http.StatusConflict, `{"error":{"code":"CONFLICT","message":"database is busy"}}`)
	_, err := New(srv.URL, "t").ExecuteMigration(context.Background(), "mig-1", ExecuteRequest{})
	if !errors.Is(err, ErrConflict) || err.Error() != "database is busy" {
		t.Errorf("ExecuteMigration() error = %v, want ErrConflict \"database is busy\"", err)
	}
}

func TestGetExecution(t *testing.T) {
	srv, rec := fakeAPI(t, http.StatusOK, `{"executionId":"exec-1","status":"Failed","progress":100,
		"steps":[{"stepId":"s1","status":"Failed","retries":2,"error":{"message":"relation exists","sqlState":"42P07"}}],
		"logs":[{"time":"2026-01-02T03:04:05Z","level":"error","message":"step failed","stepId":"s1"}],
		"error":{"message":"relation exists","sqlState":"42P07","statement":"CREATE TABLE t ()"}}`)
	e, err := New(srv.URL, "t").GetExecution(context.Background(), "mig-1", "exec-1")
	if err != nil {
		t.Fatalf("GetExecution() error = %v", err)
	}
	if rec.path != "/api/v1/migrations/mig-1/executions/exec-1" {
		t.Errorf("path = %s, want /api/v1/migrations/mig-1/executions/exec-1", rec.path)
	}
	if e.Status != domain.ExecutionFailed || e.Error == nil || e.Error.SQLState != "42P07" ||
		len(e.Steps) != 1 || e.Steps[0].Retries != 2 || len(e.Logs) != 1 || e.Logs[0].StepID != "s1" {
		t.Errorf("GetExecution() = %+v, want a Failed execution with its step, log and 42P07 error", e)
	}
}

func TestRollbackExecution(t *testing.T) {
	srv, rec := fakeAPI(t, http.StatusAccepted, `{"executionId":"exec-1","status":"Running"}`)
	r, err := New(srv.URL, "t").RollbackExecution(context.Background(), "mig-1", "exec-1", "bad index")
	if err != nil {
		t.Fatalf("RollbackExecution() error = %v", err)
	}
	if r.Status != domain.ExecutionRunning || r.Status.Terminal() {
		t.Errorf("RollbackExecution() = %+v, want still Running", r)
	}
	if rec.method != http.MethodPost || rec.path != "/api/v1/migrations/mig-1/executions/exec-1/rollback" ||
		rec.body != `{"reason":"bad index"}` {
		t.Errorf("request = %s %s %s, want POST .../exec-1/rollback with the reason", rec.method, rec.path, rec.body)
	}
}

func TestDatabaseHistory(t *testing.T) {
	srv, rec := fakeAPI(t, http.StatusOK, `{"databaseId":"db-1","name":"app","inSync":false,
		"drift":[{"kind":"checksum","agent":"host1","instanceId":"main","executionId":"exec-1","stepId":"s1","message":"changed"}],
		"instances":[{"agent":"host1","instanceId":"main","rows":[{"executionId":"exec-1","stepId":"s1",
		"migrationName":"m","direction":"forward","checksum":"abc","appliedAt":"2026-01-02T03:04:05Z","durationMs":1.5}]},
		{"agent":"host2","instanceId":"main","rows":[],"error":"agent host2 is not connected"}]}`)
	h, err := New(srv.URL, "t").DatabaseHistory(context.Background(), "app")
	if err != nil {
		t.Fatalf("DatabaseHistory() error = %v", err)
	}
	if rec.path != "/api/v1/databases/app/history" {
		t.Errorf("path = %s, want /api/v1/databases/app/history", rec.path)
	}
	if h.InSync || len(h.Drift) != 1 || h.Drift[0].Kind != "checksum" || len(h.Instances) != 2 ||
		len(h.Instances[0].Rows) != 1 || h.Instances[0].Rows[0].DurationMs != 1.5 || h.Instances[1].Error == "" {
		t.Errorf("DatabaseHistory() = %+v, want one drift, a row on host1 and an error on host2", h)
	}
}

func TestExecutionPaths(t *testing.T) {
	tests := []struct {
		name     string
		call     func(*Client) error
		wantPath string
	}{
		{"list executions", func(c *Client) error {
			_, err := c.ListExecutions(context.Background(), "mig-1")
			return err
		}, "/api/v1/migrations/mig-1/executions"},
		{"get execution escaped", func(c *Client) error {
			_, err := c.GetExecution(context.Background(), "mig 1", "exec/1")
			return err
		}, "/api/v1/migrations/mig 1/executions/exec/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, rec := fakeAPI(t, http.StatusOK, `{}`)
			if err := tt.call(New(srv.URL, "t")); err != nil {
				t.Fatalf("error = %v", err)
			}
			if rec.method != http.MethodGet || rec.path != tt.wantPath {
				t.Errorf("request = %s %s, want GET %s", rec.method, rec.path, tt.wantPath)
			}
		})
	}
}

func TestEmptyExecutionIDRefused(t *testing.T) {
	srv, rec := fakeAPI(t, http.StatusOK, `{}`)
	c := New(srv.URL, "t")
	if _, err := c.GetExecution(context.Background(), "mig-1", ""); err == nil {
		t.Error("GetExecution(mig-1, \"\") error = nil, want an error")
	}
	if _, err := c.RollbackExecution(context.Background(), "", "exec-1", "why"); err == nil {
		t.Error("RollbackExecution(\"\", exec-1) error = nil, want an error")
	}
	if rec.method != "" {
		t.Errorf("a request was sent: %s %s", rec.method, rec.path)
	}
}
