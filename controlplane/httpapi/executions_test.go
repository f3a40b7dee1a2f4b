package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// The orchestrator's part, which these tests stand in for: the only place
// they commit an execution's transitions themselves.

// startExecution takes the database's lock for an execution and starts it.
func startExecution(t *testing.T, h *harness, id string) {
	t.Helper()
	h.raft.must(t, fsm.StartExecutionRequest{ExecutionID: id, StartedAt: time.Now().UTC()})
}

// finishRollback records a requested rollback as done, two seconds long.
func finishRollback(t *testing.T, h *harness, id string) {
	t.Helper()
	e, err := h.raft.State().Execution(id)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC()
	e.Status, e.RollingBack = domain.ExecutionRolledBack, false
	e.RollbackStartedAt, e.RollbackCompletedAt, e.CompletedAt = at, at.Add(2*time.Second), at.Add(2*time.Second)
	h.raft.must(t, fsm.UpdateExecutionRequest{Execution: e})
}

func TestPlan(t *testing.T) {
	h := newHarness(t)
	f := h.addDatabase(t)
	m := h.addMigration(t, f, "c1")
	ctx := context.Background()
	before := h.view()
	direct, err := h.client.PlanMigration(ctx, m.MigrationID, "")
	if err != nil || direct.DatabaseID != f.db.DatabaseID || direct.Plan.Strategy != domain.Direct ||
		len(direct.Plan.Steps) != 1 || direct.Plan.Steps[0].InstanceID != "main" || len(direct.Plan.Phases) != 1 {
		t.Fatalf("PlanMigration(migration's strategy) = %+v, %v; want Direct: one phase, one step on main", direct, err)
	}
	phased, err := h.client.PlanMigration(ctx, m.MigrationID, domain.Phased)
	if err != nil || phased.Plan.Strategy != domain.Phased || !hasStep(phased.Plan.Steps, domain.StepVerify, "replica") {
		t.Fatalf("PlanMigration(Phased) = %+v, %v; want a verify step on the standby", phased, err)
	}
	for _, s := range []domain.Strategy{"Sideways", domain.BlueGreen} {
		var ae *api.Error
		if _, err := h.client.PlanMigration(ctx, m.MigrationID, s); !errors.As(err, &ae) || ae.Status != http.StatusBadRequest ||
			len(ae.Details) == 0 || ae.Details[0].Field != "strategy" {
			t.Errorf("PlanMigration(%s) error = %v, want a 400 on field strategy", s, err)
		}
	}
	h.unchanged(t, before)

	started, err := h.client.ExecuteMigration(ctx, m.MigrationID, api.ExecuteRequest{Strategy: domain.Phased})
	if err != nil {
		t.Fatalf("ExecuteMigration(Phased) error = %v", err)
	}
	if !reflect.DeepEqual(started.Plan, phased.Plan) {
		t.Errorf("execute planned %+v, the plan endpoint said %+v", started.Plan, phased.Plan)
	}
}

func TestExecuteAndRead(t *testing.T) {
	h := newHarness(t)
	f := h.addDatabase(t)
	m := h.addMigration(t, f, "c1")
	ctx := context.Background()
	before := h.view()
	for name, req := range map[string]api.ExecuteRequest{
		"wrong environment": {Environment: domain.QA},
		"lock timeout":      {LockTimeoutMs: 70_000},
		"strategy":          {Strategy: "Sideways"},
		"shadow settings":   {Shadow: &api.ShadowRequest{Iterations: 3}},
	} {
		if _, err := h.client.ExecuteMigration(ctx, m.MigrationID, req); !errors.Is(err, api.ErrValidation) {
			t.Errorf("ExecuteMigration(%s) error = %v, want a 400", name, err)
		}
	}
	h.unchanged(t, before)

	r, err := h.client.ExecuteMigration(ctx, m.MigrationID, api.ExecuteRequest{DryRun: true})
	if err != nil || r.Status != domain.ExecutionPending || r.MigrationID != m.MigrationID || len(r.Plan.Steps) != 1 {
		t.Fatalf("ExecuteMigration(dry run) = %+v, %v; want a Pending execution of one step", r, err)
	}
	e, err := h.client.GetExecution(ctx, m.MigrationID, r.ExecutionID)
	if err != nil || !e.DryRun || e.LockTimeoutMs != 500 || e.InitiatedBy != "admin" || len(e.Steps) != 1 || len(e.Logs) == 0 {
		t.Fatalf("GetExecution() = %+v, %v; want the dry run by admin with the 500 ms default lock timeout", e, err)
	}
	list, err := h.client.ListExecutions(ctx, m.MigrationID)
	if err != nil || list.Total != 1 || list.Executions[0].ExecutionID != r.ExecutionID {
		t.Errorf("ListExecutions() = %+v, %v; want the one execution", list, err)
	}
	metrics, err := h.client.ExecutionMetrics(ctx, m.MigrationID, r.ExecutionID, 0)
	if err != nil || metrics.ExecutionID != r.ExecutionID || metrics.Baselines == nil || metrics.Snapshots == nil ||
		metrics.Monitoring.SampleIntervalMs != 250 {
		t.Errorf("ExecutionMetrics() = %+v, %v; want empty lists and the default monitoring", metrics, err)
	}
	if _, err := h.client.RollbackExecution(ctx, m.MigrationID, r.ExecutionID, "why"); !errors.Is(err, api.ErrConflict) {
		t.Errorf("RollbackExecution(dry run) error = %v, want 409: a dry run has nothing to roll back", err)
	}

	other := h.addMigration(t, f, "c2")
	if _, err := h.client.GetExecution(ctx, other.MigrationID, r.ExecutionID); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("GetExecution() under another migration: error = %v, want 404", err)
	}
}

func TestPauseAndResume(t *testing.T) {
	h, mig, id := pendingExecution(t)
	ctx := context.Background()
	if _, err := h.client.PauseExecution(ctx, mig, id, api.PauseRequest{}); !errors.Is(err, api.ErrConflict) {
		t.Errorf("PauseExecution(Pending) error = %v, want 409", err)
	}
	startExecution(t, h, id)

	e, err := h.client.PauseExecution(ctx, mig, id, api.PauseRequest{Reason: "lunch"})
	if err != nil || e.Status != domain.ExecutionPaused || e.PausedBy != "admin" || !hasLog(e, "paused by admin: lunch") {
		t.Fatalf("PauseExecution() = %s by %q, %v; want Paused by admin, logged with the reason", e.Status, e.PausedBy, err)
	}
	before := h.view()
	if _, err := h.client.PauseExecution(ctx, mig, id, api.PauseRequest{}); !errors.Is(err, api.ErrConflict) {
		t.Errorf("PauseExecution(Paused) error = %v, want 409", err)
	}
	for _, s := range []domain.Strategy{domain.Shadow, "Sideways"} {
		if _, err := h.client.ResumeExecution(ctx, mig, id, api.ResumeRequest{Strategy: s}); !errors.Is(err, api.ErrValidation) {
			t.Errorf("ResumeExecution(strategy %s) error = %v, want 400", s, err)
		}
	}
	if a := h.do(t, http.MethodPost, "/api/v1/migrations/"+mig+"/executions/"+id+"/resume", adminToken, `{"strategy":"Direct","now":true}`); a.status != http.StatusBadRequest {
		t.Errorf("resume with an unknown field: status %d, want 400", a.status)
	}
	h.unchanged(t, before)

	e, err = h.client.ResumeExecution(ctx, mig, id, api.ResumeRequest{})
	if err != nil || e.Status != domain.ExecutionRunning || e.PausedBy != "" || !hasLog(e, "resumed by admin") {
		t.Fatalf("ResumeExecution() = %s, %v; want Running, logged", e.Status, err)
	}
	if _, err := h.client.ResumeExecution(ctx, mig, id, api.ResumeRequest{}); !errors.Is(err, api.ErrConflict) ||
		!strings.Contains(err.Error(), "not Paused") {
		t.Errorf("ResumeExecution(Running) error = %v, want 409 not Paused", err)
	}

	if _, err := h.client.PauseExecution(ctx, mig, id, api.PauseRequest{}); err != nil {
		t.Fatal(err)
	}
	e, err = h.client.ResumeExecution(ctx, mig, id, api.ResumeRequest{Strategy: domain.Phased})
	if err != nil || e.Status != domain.ExecutionRunning || e.Strategy != domain.Phased || !hasStep(e.Steps, domain.StepVerify, "replica") {
		t.Fatalf("ResumeExecution(Phased) = %s %s %+v, %v; want Running, re-planned Phased with the standby verified",
			e.Status, e.Strategy, e.Steps, err)
	}
}

func TestRollback(t *testing.T) {
	h, mig, id := pendingExecution(t)
	ctx := context.Background()
	startExecution(t, h, id)
	before := h.view()
	if _, err := h.client.RollbackExecution(ctx, mig, id, ""); !errors.Is(err, api.ErrValidation) {
		t.Errorf("RollbackExecution() without a reason: error = %v, want 400", err)
	}
	h.unchanged(t, before)

	done := make(chan rollbackResult, 1)
	go func() { done <- h.rollback(mig, id, "latency doubled") }()
	requested := waitFor(t, h, id, func(e domain.Execution) bool { return e.RollbackRequested })
	if requested.RollbackReason != "latency doubled" || requested.RollbackRequestedBy != "admin" ||
		!hasLog(requested, "rollback requested by admin: latency doubled") {
		t.Errorf("requested rollback = reason %q by %q; want the reason and admin, logged", requested.RollbackReason, requested.RollbackRequestedBy)
	}
	finishRollback(t, h, id)
	got := <-done
	if got.err != nil || got.status != http.StatusOK || got.r.Status != domain.ExecutionRolledBack ||
		got.r.RollbackDuration != 2 || got.r.RollbackCompletedAt.IsZero() {
		t.Fatalf("rollback answered %d %+v, %v; want 200 RolledBack in 2 s once the rollback ended", got.status, got.r, got.err)
	}
	if _, err := h.client.RollbackExecution(ctx, mig, id, "again"); !errors.Is(err, api.ErrConflict) {
		t.Errorf("RollbackExecution(RolledBack) error = %v, want 409", err)
	}
}

// pendingExecution executes a Direct migration over HTTP and returns its
// migration and execution ids.
func pendingExecution(t *testing.T) (h *harness, mig, id string) {
	t.Helper()
	h = newHarness(t)
	m := h.addMigration(t, h.addDatabase(t), "c1")
	r, err := h.client.ExecuteMigration(context.Background(), m.MigrationID, api.ExecuteRequest{})
	if err != nil {
		t.Fatalf("ExecuteMigration() error = %v", err)
	}
	return h, m.MigrationID, r.ExecutionID
}

// rollbackResult is the answer of a rollback request.
type rollbackResult struct {
	status int
	r      api.RollbackResponse
	err    error
}

// rollback asks for a rollback over HTTP; it may run outside the test's
// goroutine.
func (h *harness) rollback(mig, id, reason string) rollbackResult {
	body, _ := json.Marshal(api.RollbackRequest{Reason: reason})
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/api/v1/migrations/"+mig+"/executions/"+id+"/rollback", bytes.NewReader(body))
	if err != nil {
		return rollbackResult{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+h.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		return rollbackResult{err: err}
	}
	defer resp.Body.Close()
	res := rollbackResult{status: resp.StatusCode}
	res.err = json.NewDecoder(resp.Body).Decode(&res.r)
	return res
}

// waitFor polls the state until the execution satisfies ok.
func waitFor(t *testing.T, h *harness, id string, ok func(domain.Execution) bool) domain.Execution {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		e, err := h.raft.State().Execution(id)
		if err == nil && ok(e) {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s never got there: %+v (%v)", id, e, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func hasStep(steps []domain.Step, kind, instance string) bool {
	for _, s := range steps {
		if s.Kind == kind && s.InstanceID == instance {
			return true
		}
	}
	return false
}

func hasLog(e domain.Execution, text string) bool {
	for _, l := range e.Logs {
		if strings.Contains(l.Message, text) {
			return true
		}
	}
	return false
}
