package orchestrator

import (
	"testing"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// TestStepCarriesTheLockPolicy: the migration's lock policy reaches the
// agent in the step's message.
func TestStepCarriesTheLockPolicy(t *testing.T) {
	b := newBed(t)
	b.must(fsm.CreateMigrationRequest{Migration: domain.Migration{MigrationID: "mig-2", Name: "add_flag", TargetDatabaseID: "db-1",
		MigrationScript: "ALTER TABLE t ADD COLUMN f int;", RollbackScript: "ALTER TABLE t DROP COLUMN f;",
		LockPolicy: domain.LockPolicy{NeverFree: domain.NeverFreeFail, TerminateBlockersAfterMs: 30000, TerminatePrivileged: true}}})
	e := domain.Execution{ExecutionID: "exec-2", MigrationID: "mig-2", DatabaseID: "db-1", Strategy: domain.Direct,
		Status: domain.ExecutionPending, InitiatedBy: "alice", TimeoutSeconds: 60, LockTimeoutMs: 500,
		CreatedAt: b.clock.Now(), Decisions: []domain.Decision{},
		Steps: []domain.Step{{StepID: "s1", Kind: domain.StepApply, Phase: "s1", Direction: domain.Forward,
			Agent: "a1", InstanceID: "pg-1", Status: domain.StepPending}},
		Phases: []domain.PhaseView{{Index: 0, Name: "s1"}}}
	b.must(fsm.CreateExecutionRequest{Execution: e})
	b.reconcile()
	got := b.disp.executes()
	if len(got) != 1 {
		t.Fatalf("sent %d steps, want 1", len(got))
	}
	x := got[0]
	if x.GetNeverFree() != "fail" || x.GetTerminateBlockersAfterMs() != 30000 || !x.GetTerminatePrivileged() {
		t.Errorf("step message never_free %q, terminate after %d ms, privileged %v; want fail, 30000, true",
			x.GetNeverFree(), x.GetTerminateBlockersAfterMs(), x.GetTerminatePrivileged())
	}
}
