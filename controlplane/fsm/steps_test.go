package fsm

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/hotswap-db/hotswap/internal/domain"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// applier applies commands at growing indexes.
type applier struct {
	t     *testing.T
	f     *FSM
	index uint64
}

func (a *applier) apply(c Command) error {
	a.t.Helper()
	a.index++
	return apply(a.t, a.f, a.index, c)
}

func (a *applier) must(c Command) {
	a.t.Helper()
	if err := a.apply(c); err != nil {
		a.t.Fatalf("apply %T: %v", c, err)
	}
}

func (a *applier) execution(id string) domain.Execution {
	a.t.Helper()
	e, err := a.f.State().Execution(id)
	if err != nil {
		a.t.Fatal(err)
	}
	return e
}

// running seeds the state and starts e1, with one apply step s1 on host1/main.
func running(t *testing.T) *applier {
	t.Helper()
	a := &applier{t: t, f: New(nil)}
	seed(t, a.f)
	a.index = 10
	e := newExecution("e1", false)
	e.Steps[0].Kind, e.Steps[0].Agent, e.Steps[0].InstanceID = domain.StepApply, "host1", "main"
	e.Phases = []domain.PhaseView{{Index: 0, Name: "all"}}
	a.must(CreateExecutionRequest{Execution: e})
	a.must(StartExecutionRequest{ExecutionID: "e1", StartedAt: t0})
	return a
}

func TestStepLifecycle(t *testing.T) {
	a := running(t)
	a.must(DispatchStepsRequest{ExecutionID: "e1", StepIDs: []string{"s1"}, At: t0.Add(time.Second),
		Baselines: map[string]domain.Baseline{"s1": {Samples: 3}}})
	e := a.execution("e1")
	if s := e.Steps[0]; s.Status != domain.StepRunning || s.Attempt != 1 || s.Baseline == nil || s.Baseline.Samples != 3 {
		t.Fatalf("dispatched step = %+v, want Running attempt 1 with its baseline", s)
	}
	if e.Version != a.index || e.Progress != 0 {
		t.Errorf("version %d progress %d, want %d and 0", e.Version, e.Progress, a.index)
	}
	a.must(StepEventsRequest{ExecutionID: "e1", Logs: []domain.LogEntry{{Message: "statement 1 done"}},
		Statements: map[string][]domain.StatementResult{"s1": {{Index: 0, SQL: "ALTER", RowsAffected: 2}}}})
	res := StepResultRequest{ExecutionID: "e1", StepID: "s1", Attempt: 1, At: t0.Add(2 * time.Second),
		Status: domain.StepSucceeded, Transactional: true}
	a.must(res)
	e = a.execution("e1")
	if e.Status != domain.ExecutionSucceeded || e.Progress != 100 || e.Phases[0].Done != 1 || e.Steps[0].RowsAffected != 2 {
		t.Fatalf("after the last result: status %s progress %d phase %+v step %+v; want Succeeded in the same entry",
			e.Status, e.Progress, e.Phases[0], e.Steps[0])
	}
	if m, _ := a.f.State().Migration("mig-1"); m.Status != domain.MigrationSucceeded {
		t.Errorf("migration = %s, want Succeeded", m.Status)
	}
	logs := logText(e)
	for _, want := range []string{"step s1 (apply forward) starting on host1/main", "statement 1 done",
		"step s1 (forward) succeeded on host1/main in 1s: 1 statement(s)", "execution Succeeded after 2s"} {
		if strings.Count(logs, want) != 1 {
			t.Errorf("log has %q %d times, want once:\n%s", want, strings.Count(logs, want), logs)
		}
	}
	// The same result again is a duplicate: refused, and nothing changes.
	before := a.execution("e1")
	if err := a.apply(res); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate result = %v, want conflict", err)
	}
	if after := a.execution("e1"); !reflect.DeepEqual(before, after) {
		t.Error("a refused duplicate changed the execution")
	}
}

func logText(e domain.Execution) string {
	var sb strings.Builder
	for _, l := range e.Logs {
		sb.WriteString(l.Message + "\n")
	}
	return sb.String()
}

func TestTransitionsRefused(t *testing.T) {
	a := running(t)
	result := StepResultRequest{ExecutionID: "e1", StepID: "s1", Attempt: 1, At: t0, Status: domain.StepSucceeded}
	cases := []struct {
		name string
		cmd  Command
		want error
	}{
		{"result for a step not running", result, ErrConflict},
		{"dispatch of an unknown step", DispatchStepsRequest{ExecutionID: "e1", StepIDs: []string{"nope"}, At: t0}, ErrNotFound},
		{"end with steps left", EndExecutionRequest{ExecutionID: "e1", Status: domain.ExecutionSucceeded, At: t0}, ErrConflict},
		{"phase done on an execution of its own", PhaseDoneRequest{ExecutionID: "e1", At: t0}, ErrConflict},
		{"resume decision while running", DecisionRequest{ExecutionID: "e1", Decision: domain.Decision{Action: "resume"}, At: t0}, ErrConflict},
		{"wave on an execution of its own", CreateFleetWaveRequest{ParentID: "e1", At: t0}, ErrConflict},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { refused(t, a, tc.cmd, tc.want) })
	}

	a.must(DispatchStepsRequest{ExecutionID: "e1", StepIDs: []string{"s1"}, At: t0})
	t.Run("dispatch of a running step", func(t *testing.T) {
		refused(t, a, DispatchStepsRequest{ExecutionID: "e1", StepIDs: []string{"s1"}, At: t0}, ErrConflict)
	})
	t.Run("result of another attempt", func(t *testing.T) {
		stale := result
		stale.Attempt = 2
		refused(t, a, stale, ErrConflict)
	})
	t.Run("rollback started while a step runs", func(t *testing.T) {
		refused(t, a, StartRollbackRequest{ExecutionID: "e1", Reason: "r", At: t0}, ErrConflict)
	})
	failed := result
	failed.Status, failed.Error = domain.StepFailed, &domain.DBError{Message: "boom", SQLState: "42P01"}
	a.must(failed)
	e := a.execution("e1")
	if !e.RollbackRequested || e.RollbackRequestedBy != "hotswap (automatic)" || e.Status != domain.ExecutionRunning ||
		!strings.Contains(e.ErrorMessage, "step s1 (forward) failed on host1/main: boom (SQLSTATE 42P01)") {
		t.Fatalf("after a failed step: %+v; want a rollback asked for, still Running", e)
	}
	t.Run("end before the rollback is planned", func(t *testing.T) {
		refused(t, a, EndExecutionRequest{ExecutionID: "e1", Status: domain.ExecutionFailed, At: t0}, ErrConflict)
	})
	a.must(StartRollbackRequest{ExecutionID: "e1", Reason: "step failed", At: t0})
	t.Run("rollback started twice", func(t *testing.T) {
		refused(t, a, StartRollbackRequest{ExecutionID: "e1", Reason: "r", At: t0}, ErrConflict)
	})
	t.Run("end with another status than the steps say", func(t *testing.T) {
		refused(t, a, EndExecutionRequest{ExecutionID: "e1", Status: domain.ExecutionSucceeded, At: t0}, ErrConflict)
	})
	a.must(EndExecutionRequest{ExecutionID: "e1", Status: domain.ExecutionRolledBack, At: t0.Add(time.Minute)})
	t.Run("end twice", func(t *testing.T) {
		refused(t, a, EndExecutionRequest{ExecutionID: "e1", Status: domain.ExecutionRolledBack, At: t0}, ErrConflict)
	})
	t.Run("dispatch on an ended execution", func(t *testing.T) {
		refused(t, a, DispatchStepsRequest{ExecutionID: "e1", StepIDs: []string{"s1"}, At: t0}, ErrConflict)
	})
	t.Run("decision on an ended execution", func(t *testing.T) {
		refused(t, a, DecisionRequest{ExecutionID: "e1", Decision: domain.Decision{Action: "rollback"}, At: t0}, ErrConflict)
	})
}

func refused(t *testing.T, a *applier, c Command, want error) {
	t.Helper()
	before := dumpExecutions(t, a.f.State())
	if err := a.apply(c); !errors.Is(err, want) {
		t.Fatalf("got %v, want %v", err, want)
	}
	if after := dumpExecutions(t, a.f.State()); !reflect.DeepEqual(before, after) {
		t.Errorf("a refused %T changed the state", c)
	}
}

func dumpExecutions(t *testing.T, st *State) []domain.Execution {
	t.Helper()
	return st.Executions(nil)
}

func TestDecisions(t *testing.T) {
	a := running(t)
	lag := domain.Decision{Action: "pause", Counter: domain.CounterReplicationLag, InstanceID: "main", Value: 12, Threshold: 10}
	a.must(DecisionRequest{ExecutionID: "e1", Decision: lag, DecidedBy: "leader", At: t0})
	if e := a.execution("e1"); e.Status != domain.ExecutionPaused || len(e.Decisions) != 1 || e.Decisions[0].DecidedBy != "leader" {
		t.Fatalf("after a lag pause: %s %+v", e.Status, e.Decisions)
	}
	refused(t, a, DispatchStepsRequest{ExecutionID: "e1", StepIDs: []string{"s1"}, At: t0}, ErrConflict)
	lag.Action, lag.Value = "resume", 1
	a.must(DecisionRequest{ExecutionID: "e1", Decision: lag, DecidedBy: "leader", At: t0})
	lat := domain.Decision{Action: "rollback", Counter: domain.CounterLatency, InstanceID: "main", Value: 9, Threshold: 1}
	a.must(DecisionRequest{ExecutionID: "e1", Decision: lat, StepID: "s1", DecidedBy: "agent host1", At: t0})
	e := a.execution("e1")
	if !e.RollbackRequested || e.RollbackRequestedBy != "hotswap (guard)" || !strings.Contains(e.RollbackReason, "query latency 9.0ms") {
		t.Fatalf("after a latency decision: %+v", e)
	}
	refused(t, a, DecisionRequest{ExecutionID: "e1", Decision: lat, DecidedBy: "leader", At: t0}, ErrConflict)
}

// An entry written by an older version (the whole execution replaced)
// still decodes and applies, so an old log replays.
func TestOldUpdateExecutionEntryApplies(t *testing.T) {
	a := running(t)
	e := a.execution("e1")
	old := `{"Execution":{"executionId":"e1","migrationId":"mig-1","databaseId":"db-1","status":"Succeeded","progress":100,` +
		`"steps":[{"stepId":"s1","kind":"apply","direction":"forward","status":"Succeeded","attempt":1}],` +
		`"version":` + strconv.FormatUint(e.Version, 10) + `},"AppendLogs":[{"time":"2026-01-01T00:00:00Z","level":"info","message":"done"}]}`
	a.index++
	if res := a.f.Apply(&raft.Log{Index: a.index, Type: raft.LogCommand, Data: append([]byte{14}, old...)}); res != nil {
		t.Fatalf("old entry refused: %v", res)
	}
	got := a.execution("e1")
	if got.Status != domain.ExecutionSucceeded || got.Version != a.index || got.Logs[len(got.Logs)-1].Message != "done" {
		t.Fatalf("after the old entry: %+v", got)
	}
	if m, _ := a.f.State().Migration("mig-1"); m.Status != domain.MigrationSucceeded {
		t.Errorf("migration = %s, want Succeeded", m.Status)
	}
}

func TestTypedExecutionSurvivesSnapshot(t *testing.T) {
	a := running(t)
	a.must(DispatchStepsRequest{ExecutionID: "e1", StepIDs: []string{"s1"}, At: t0, Baselines: map[string]domain.Baseline{"s1": {Samples: 1}}})
	want := a.execution("e1")
	g := New(nil)
	if err := g.Restore(io.NopCloser(bytes.NewReader(snapshotBytes(t, a.f)))); err != nil {
		t.Fatal(err)
	}
	got, err := g.State().Execution("e1")
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("restored execution differs:\n got %+v\nwant %+v", got, want)
	}
	// The restored state goes on applying typed commands.
	res := StepResultRequest{ExecutionID: "e1", StepID: "s1", Attempt: 1, At: t0, Status: domain.StepSucceeded}
	if err := apply(t, g, a.index+1, res); err != nil {
		t.Fatal(err)
	}
}

func TestFleetWaveInOneEntry(t *testing.T) {
	a := running(t) // e1 holds db-1's lock
	a.must(CreateDatabaseRequest{Database: domain.Database{DatabaseID: "db-2", Name: "billing", Type: domain.PostgreSQL,
		Instances: []domain.InstanceRef{{Agent: "host1", InstanceID: "other", Role: domain.RoleMaster}}}})
	a.must(CreateMigrationRequest{Migration: domain.Migration{MigrationID: "mig-3", Name: "c", TargetDatabaseID: "db-1"}})
	p := domain.Execution{ExecutionID: "p", MigrationID: "mig-3", DatabaseID: "fleet:p", Status: domain.ExecutionPending,
		Fleet:  &domain.Fleet{Waves: [][]string{{"db-1", "db-2"}}, Children: map[string]string{}},
		Phases: []domain.PhaseView{{Index: 0, Name: "wave 1", Steps: 2}}}
	a.must(CreateExecutionRequest{Execution: p})
	a.must(StartExecutionRequest{ExecutionID: "p", StartedAt: t0})
	child := func(id, db string) domain.Execution {
		c := newExecution(id, true)
		c.MigrationID, c.DatabaseID, c.ParentID = "mig-3", db, "p"
		return c
	}
	wave := CreateFleetWaveRequest{ParentID: "p", Children: []domain.Execution{child("c1", "db-1"), child("c2", "db-2")},
		Start: []string{"c1", "c2"}, At: t0}
	a.must(wave)
	if c := a.execution("c2"); c.Status != domain.ExecutionRunning || c.FencingToken != a.index {
		t.Errorf("c2 = %s token %d, want Running with token %d (this entry)", c.Status, c.FencingToken, a.index)
	}
	if c := a.execution("c1"); c.Status != domain.ExecutionPending {
		t.Errorf("c1 = %s, want Pending: e1 holds db-1's lock", c.Status)
	}
	if got := a.execution("p"); len(got.Fleet.Children) != 2 || !strings.Contains(logText(got), "wave 1: 2 execution(s) created, 1 started") {
		t.Errorf("parent after its wave: %+v\n%s", got.Fleet, logText(got))
	}
	refused(t, a, wave, ErrConflict)
	refused(t, a, PhaseDoneRequest{ExecutionID: "p", Phase: 0, At: t0}, ErrConflict)
	refused(t, a, EndExecutionRequest{ExecutionID: "p", Status: domain.ExecutionSucceeded, At: t0}, ErrConflict)
}

// TestShadowResultKeepsEarlierFindings checks that a step's result, computed
// from an older copy of a Shadow rollout's record, adds what the step found
// and erases nothing an earlier step recorded.
func TestShadowResultKeepsEarlierFindings(t *testing.T) {
	a := &applier{t: t, f: New(nil)}
	seed(t, a.f)
	a.index = 10
	e := newExecution("e1", false)
	e.Steps[0].Kind, e.Steps[0].Agent, e.Steps[0].InstanceID = domain.StepReplay, "host1", "main"
	e.Phases = []domain.PhaseView{{Index: 0, Name: "all"}}
	e.Shadow = &domain.ShadowRun{Workload: []string{"SELECT * FROM t WHERE id = 42"}, Source: "captured", Iterations: 5}
	a.must(CreateExecutionRequest{Execution: e})
	a.must(StartExecutionRequest{ExecutionID: "e1", StartedAt: t0})
	a.must(DispatchStepsRequest{ExecutionID: "e1", StepIDs: []string{"s1"}, At: t0.Add(time.Second)})
	before := &domain.ReplayResult{Runs: 5, P95Ms: 1.5}
	stale := domain.ShadowRun{Source: "captured", Iterations: 5, Before: before} // no workload: an older copy
	a.must(StepResultRequest{ExecutionID: "e1", StepID: "s1", Attempt: 1, At: t0.Add(2 * time.Second),
		Status: domain.StepSucceeded, Replay: before, Shadow: &stale})
	got := a.execution("e1").Shadow
	if got == nil || len(got.Workload) != 1 || got.Before == nil || got.Before.P95Ms != 1.5 {
		t.Fatalf("shadow = %+v, want the captured workload kept and the replay's figures added", got)
	}
	after := mergeShadow(*got, domain.ShadowRun{After: &domain.ReplayResult{P95Ms: 9}, Verdict: "p95 6.0x", Passed: false})
	if after.Before == nil || after.After == nil || after.Verdict != "p95 6.0x" || len(after.Workload) != 1 {
		t.Errorf("after the second replay = %+v, want before, after and verdict with the workload", after)
	}
}
