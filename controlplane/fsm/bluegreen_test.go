package fsm

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// blueGreen seeds db-1 with blue host1/main (Master) and green host1/green
// (SyncReplica) and runs e1, a BlueGreen execution whose one switch step
// is s1.
func blueGreen(t *testing.T) *applier {
	t.Helper()
	a := &applier{t: t, f: New(nil)}
	seed(t, a.f)
	a.index = 10
	a.must(UpdateDatabaseRequest{Database: domain.Database{DatabaseID: "db-1", Name: "orders", Type: domain.PostgreSQL,
		Instances: []domain.InstanceRef{{Agent: "host1", InstanceID: "main", Role: domain.RoleMaster},
			{Agent: "host1", InstanceID: "green", Role: domain.RoleSyncReplica}}}})
	e := newExecution("e1", false)
	e.Steps[0].Kind, e.Steps[0].Agent, e.Steps[0].InstanceID = domain.StepSwitch, "host1", "bouncer"
	e.BlueGreen = &domain.BlueGreenSpec{Blue: domain.InstanceRef{Agent: "host1", InstanceID: "main", Role: domain.RoleMaster},
		Green: domain.InstanceRef{Agent: "host1", InstanceID: "green", Role: domain.RoleSyncReplica}, Agent: "host1", Pooler: "bouncer"}
	a.must(CreateExecutionRequest{Execution: e})
	a.must(StartExecutionRequest{ExecutionID: "e1", StartedAt: t0})
	return a
}

func (a *applier) roles() map[string]domain.InstanceRole {
	a.t.Helper()
	db, err := a.f.State().Database("db-1")
	if err != nil {
		a.t.Fatal(err)
	}
	out := map[string]domain.InstanceRole{}
	for _, in := range db.Instances {
		out[in.InstanceID] = in.Role
	}
	return out
}

func TestRolesFollowTheBlueGreenSwitch(t *testing.T) {
	a := blueGreen(t)
	a.must(DispatchStepsRequest{ExecutionID: "e1", StepIDs: []string{"s1"}, At: t0.Add(time.Second)})
	a.must(StepResultRequest{ExecutionID: "e1", StepID: "s1", Attempt: 1, At: t0.Add(2 * time.Second), Status: domain.StepSucceeded})
	if e := a.execution("e1"); e.Status != domain.ExecutionSucceeded {
		t.Fatalf("execution = %s, want Succeeded", e.Status)
	}
	if r := a.roles(); r["green"] != domain.RoleMaster || r["main"] != domain.RoleSyncReplica {
		t.Fatalf("roles after the switch = %v, want green Master and main SyncReplica", r)
	}
	// The roles are state: they survive a snapshot.
	g := New(nil)
	if err := g.Restore(io.NopCloser(bytes.NewReader(snapshotBytes(t, a.f)))); err != nil {
		t.Fatal(err)
	}
	if db, _ := g.State().Database("db-1"); db.Instances[1].Role != domain.RoleMaster {
		t.Errorf("restored roles = %+v, want green Master", db.Instances)
	}

	// Its rollback switches back and restores the roles.
	a.must(RequestRollbackRequest{ExecutionID: "e1", Reason: "back", By: "me", At: t0.Add(3 * time.Second)})
	rb := domain.Step{StepID: "s1-rollback", Direction: domain.Rollback, Kind: domain.StepSwitch, Agent: "host1",
		InstanceID: "bouncer", Reverts: "s1", Status: domain.StepPending}
	a.must(StartRollbackRequest{ExecutionID: "e1", Steps: []domain.Step{rb}, Reason: "back", At: t0.Add(4 * time.Second)})
	a.must(DispatchStepsRequest{ExecutionID: "e1", StepIDs: []string{"s1-rollback"}, At: t0.Add(5 * time.Second)})
	a.must(StepResultRequest{ExecutionID: "e1", StepID: "s1-rollback", Attempt: 1, At: t0.Add(6 * time.Second), Status: domain.StepSucceeded})
	if e := a.execution("e1"); e.Status != domain.ExecutionRolledBack {
		t.Fatalf("execution = %s, want RolledBack\n%s", e.Status, logText(e))
	}
	if r := a.roles(); r["main"] != domain.RoleMaster || r["green"] != domain.RoleSyncReplica {
		t.Errorf("roles after the switch back = %v, want main Master again", r)
	}
}

func TestRolesStayWhenTheSwitchNeverHappened(t *testing.T) {
	a := blueGreen(t)
	a.must(DispatchStepsRequest{ExecutionID: "e1", StepIDs: []string{"s1"}, At: t0.Add(time.Second)})
	a.must(StepResultRequest{ExecutionID: "e1", StepID: "s1", Attempt: 1, At: t0.Add(2 * time.Second), Status: domain.StepFailed})
	if e := a.execution("e1"); !e.Status.Terminal() {
		a.must(StartRollbackRequest{ExecutionID: "e1", Reason: "failed", At: t0.Add(3 * time.Second)})
	}
	if r := a.roles(); r["main"] != domain.RoleMaster || r["green"] != domain.RoleSyncReplica {
		t.Errorf("roles = %v, want them unchanged", r)
	}
}

// TestWatchLineNamesBluesBaseline: the monitor window after a switch says
// which instance is watched and that blue's baseline, with its figures,
// judges it; a step judged on its own baseline keeps the plain line.
func TestWatchLineNamesBluesBaseline(t *testing.T) {
	at := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	e := &domain.Execution{Monitoring: domain.MonitorSettings{MonitorWindowSeconds: 15},
		BlueGreen: &domain.BlueGreenSpec{Blue: domain.InstanceRef{Agent: "host1", InstanceID: "main"},
			Green: domain.InstanceRef{Agent: "host2", InstanceID: "green"}, Agent: "host2", Pooler: "bouncer"}}
	blue := domain.Baseline{Samples: 20, From: at.Add(-5 * time.Second), To: at, TPS: 812, AvgLatencyMs: 0.052, Source: "host1/main",
		Statements: []domain.StatementBaseline{{ID: "1", Fingerprint: "f", Calls: 4000, MeanMs: 0.05}}}
	sw := &domain.Step{Kind: domain.StepSwitch, SwitchTo: "green", Agent: "host2", InstanceID: "bouncer", Baseline: &blue}
	line := watchLine(e, sw, at)
	for _, want := range []string{"watching green host2/green for 15s", "against blue host1/main's baseline", "812 tps", "0.052 ms"} {
		if !strings.Contains(line.Message, want) {
			t.Errorf("watch line %q, want %q in it", line.Message, want)
		}
	}
	own := &domain.Step{Kind: domain.StepApply, Agent: "host2", InstanceID: "green", Baseline: &domain.Baseline{}}
	if got := watchLine(e, own, at).Message; got != "watching host2/green for 15s before going on" {
		t.Errorf("apply step's watch line = %q, want the plain one", got)
	}
}
