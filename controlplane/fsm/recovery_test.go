package fsm

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// failedRollback drives e1 to Failed: s1 fails, its rollback fails too.
func failedRollback(t *testing.T) *applier {
	a := running(t)
	a.must(DispatchStepsRequest{ExecutionID: "e1", StepIDs: []string{"s1"}, At: t0})
	a.must(StepResultRequest{ExecutionID: "e1", StepID: "s1", Attempt: 1, At: t0, Status: domain.StepFailed,
		Error: &domain.DBError{Message: "duplicate key"}})
	rb := domain.Step{StepID: "s1-rollback", Kind: domain.StepApply, Direction: domain.Rollback, Agent: "host1",
		InstanceID: "main", Status: domain.StepPending, Reverts: "s1", PhaseIndex: 1}
	a.must(StartRollbackRequest{ExecutionID: "e1", Steps: []domain.Step{rb}, Reason: "s1 failed", At: t0})
	a.must(DispatchStepsRequest{ExecutionID: "e1", StepIDs: []string{"s1-rollback"}, At: t0})
	a.must(StepResultRequest{ExecutionID: "e1", StepID: "s1-rollback", Attempt: 1, At: t0, Status: domain.StepFailed,
		Error: &domain.DBError{Message: "cannot drop column"}})
	if e := a.execution("e1"); e.Status != domain.ExecutionFailed {
		t.Fatalf("status = %s, want Failed after the rollback failed", e.Status)
	}
	return a
}

func TestRetryRollback(t *testing.T) {
	a := failedRollback(t)
	a.must(RetryRollbackRequest{ExecutionID: "e1", By: "ops", Reason: "dropped the view", At: t0.Add(time.Minute)})
	e := a.execution("e1")
	rb := e.Steps[len(e.Steps)-1]
	if e.Status != domain.ExecutionRunning || e.FencingToken != a.index || rb.Status != domain.StepPending || rb.Error != nil {
		t.Fatalf("after retry: status %s token %d (index %d), rollback step %+v; want Running, a new token, the step Pending",
			e.Status, e.FencingToken, a.index, rb)
	}
	if !strings.Contains(logText(e), "rollback retried by ops: 1 step(s) run again: dropped the view") {
		t.Errorf("log:\n%s", logText(e))
	}
	if m, _ := a.f.State().Migration("mig-1"); m.Status != domain.MigrationInProgress {
		t.Errorf("migration = %s, want InProgress", m.Status)
	}
	refused(t, a, RetryRollbackRequest{ExecutionID: "e1", By: "ops"}, ErrConflict)
	a.must(DispatchStepsRequest{ExecutionID: "e1", StepIDs: []string{"s1-rollback"}, At: t0.Add(time.Minute)})
	if got := a.execution("e1").Steps[1].Attempt; got != 2 {
		t.Errorf("attempt = %d, want 2", got)
	}
	a.must(StepResultRequest{ExecutionID: "e1", StepID: "s1-rollback", Attempt: 2, At: t0.Add(time.Minute), Status: domain.StepSucceeded})
	e = a.execution("e1")
	if e.Status != domain.ExecutionRolledBack || strings.Contains(e.ErrorMessage, "rollback failed") {
		t.Fatalf("after the retried rollback: %s, %q; want RolledBack without the old failure", e.Status, e.ErrorMessage)
	}
	refused(t, a, ResolveExecutionRequest{ExecutionID: "e1", By: "ops", Reason: "x"}, ErrConflict)
}

func TestResolveExecution(t *testing.T) {
	a := failedRollback(t)
	a.must(ResolveExecutionRequest{ExecutionID: "e1", By: "dba", Reason: "dropped it by hand", At: t0.Add(time.Hour)})
	e := a.execution("e1")
	if e.Status != domain.ExecutionFailed || e.Resolution == nil || e.Resolution.By != "dba" ||
		!strings.Contains(logText(e), "marked resolved by hand by dba: dropped it by hand") {
		t.Fatalf("resolved: %s %+v\n%s", e.Status, e.Resolution, logText(e))
	}
	for _, c := range []Command{ResolveExecutionRequest{ExecutionID: "e1", By: "dba", Reason: "again"},
		RetryRollbackRequest{ExecutionID: "e1", By: "dba"}} {
		if err := a.apply(c); !errors.Is(err, ErrConflict) {
			t.Errorf("%T after resolve = %v, want conflict", c, err)
		}
	}
}
