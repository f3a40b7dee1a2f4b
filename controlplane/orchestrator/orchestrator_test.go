package orchestrator

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/proto/agentpb"
)

func TestStepTimesOutAndRollsBack(t *testing.T) {
	b := newBed(t)
	id := b.create(10*time.Second, "s1")
	b.reconcile() // start, dispatch
	if got := b.disp.executes(); len(got) != 1 || got[0].GetStepId() != "s1" {
		t.Fatalf("sent %v, want s1 once", got)
	}
	b.clock.Advance(5 * time.Second)
	b.reconcile()
	if e := b.execution(id); e.RollbackRequested || len(b.disp.cancels()) != 0 {
		t.Fatalf("before the deadline: rollback requested %v, cancels %d", e.RollbackRequested, len(b.disp.cancels()))
	}
	b.clock.Advance(6 * time.Second)
	b.reconcile()
	e := b.execution(id)
	if !e.RollbackRequested || !strings.Contains(e.RollbackReason, "timeout") || e.RollbackRequestedBy != "hotswap (automatic)" {
		t.Fatalf("past the deadline: %+v, want a rollback for the timeout", e)
	}
	if c := b.disp.cancels(); len(c) != 1 || c[0].GetStepId() != "s1" {
		t.Fatalf("cancels = %v, want s1 cancelled", c)
	}
	// The agent stops the statement and says so; nothing was applied.
	b.report(b.o, &agentpb.StepResult{ExecutionId: id, StepId: "s1", Attempt: 1, Cancelled: true, Transactional: true})
	for i := 0; i < 3 && !b.execution(id).Status.Terminal(); i++ {
		b.reconcile()
	}
	e = b.execution(id)
	if e.Status != domain.ExecutionRolledBack || len(e.Steps) != 1 || e.Steps[0].Status != domain.StepCancelled {
		t.Fatalf("end = %s with steps %+v, want RolledBack with nothing to undo", e.Status, e.Steps)
	}
	if n := b.raft.count(fsm.UpdateExecutionType); n != 0 {
		t.Errorf("%d whole-execution updates committed, want none", n)
	}
}

func TestQueuedExecutionsStartInOrder(t *testing.T) {
	// Both are pending in the same pass; starts run concurrently, so a
	// wrong order shows up in some of the rounds, not always.
	for round := range 20 {
		b := newBed(t)
		first := b.createAs("exec-9", time.Hour, "s1")
		b.must(fsm.CreateMigrationRequest{Migration: domain.Migration{MigrationID: "mig-2", Name: "add_index",
			TargetDatabaseID: "db-1", MigrationScript: "CREATE INDEX i ON t (c);", RollbackScript: "DROP INDEX i;"}})
		b.clock.Advance(time.Millisecond)
		e := b.execution(first)
		e.ExecutionID, e.MigrationID, e.Queued, e.CreatedAt = "exec-1", "mig-2", true, b.clock.Now()
		b.must(fsm.CreateExecutionRequest{Execution: e})
		second := e.ExecutionID
		b.reconcile()
		if e := b.execution(first); e.Status != domain.ExecutionRunning {
			t.Fatalf("round %d: the first created is %s, want Running", round, e.Status)
		}
		if e := b.execution(second); e.Status != domain.ExecutionPending {
			t.Fatalf("round %d: the one created after it is %s, want Pending behind it", round, e.Status)
		}
	}
}

func TestResultArrivingTwiceAppliesOnce(t *testing.T) {
	b := newBed(t)
	id := b.create(time.Hour, "s1", "s2")
	b.reconcile()
	b.report(b.o, succeeded(id, "s1", 1))
	b.report(b.o, succeeded(id, "s1", 1)) // the agent answered a re-delivery
	if n := b.raft.count(fsm.StepResultType); n != 1 {
		t.Fatalf("%d step results committed, want 1", n)
	}
	// Even when the duplicate reaches the log, the FSM refuses it.
	_, err := b.raft.Apply(context.Background(), fsm.StepResultRequest{ExecutionID: id, StepID: "s1", Attempt: 1,
		At: b.clock.Now(), Status: domain.StepFailed})
	if err == nil {
		t.Fatal("a second result for s1 was applied")
	}
	if s := b.step(id, "s1"); s.Status != domain.StepSucceeded {
		t.Fatalf("s1 = %s, want Succeeded", s.Status)
	}
	if n := strings.Count(logText(b.execution(id)), "step s1 (forward) succeeded"); n != 1 {
		t.Errorf("the result is logged %d times, want once", n)
	}
	b.reconcile()
	b.report(b.o, succeeded(id, "s2", 1))
	if e := b.execution(id); e.Status != domain.ExecutionSucceeded {
		t.Fatalf("end = %s, want Succeeded in the entry of the last result", e.Status)
	}
}

func TestRollbackRequestedWhileStepRuns(t *testing.T) {
	b := newBed(t)
	id := b.create(time.Hour, "s1", "s2")
	b.reconcile()
	b.must(fsm.RequestRollbackRequest{ExecutionID: id, Reason: "product asked to undo", By: "bob", At: b.clock.Now()})
	b.reconcile()
	if c := b.disp.cancels(); len(c) != 1 || c[0].GetStepId() != "s1" || !strings.Contains(c[0].GetReason(), "product asked") {
		t.Fatalf("cancels = %v, want s1 cancelled for the request", c)
	}
	if e := b.execution(id); e.RollingBack {
		t.Fatal("rollback planned while s1 still runs: its outcome is not known yet")
	}
	// s1 committed before the cancel reached it.
	b.report(b.o, succeeded(id, "s1", 1))
	b.reconcile() // plans the rollback of s1; s2 is cancelled
	b.reconcile() // dispatches it
	e := b.execution(id)
	if !e.RollingBack || b.step(id, "s2").Status != domain.StepCancelled {
		t.Fatalf("after s1's result: rolling back %v, s2 %s", e.RollingBack, b.step(id, "s2").Status)
	}
	sent := b.disp.executes()
	last := sent[len(sent)-1]
	if last.GetStepId() != "s1-rollback" || last.GetDirection() != string(domain.Rollback) {
		t.Fatalf("last sent = %s %s, want s1-rollback", last.GetStepId(), last.GetDirection())
	}
	for _, x := range sent {
		if x.GetStepId() == "s2" {
			t.Fatal("s2 was sent after the rollback request")
		}
	}
	b.report(b.o, succeeded(id, "s1-rollback", 1))
	b.reconcile()
	if e := b.execution(id); e.Status != domain.ExecutionRolledBack || e.RollbackRequestedBy != "bob" {
		t.Fatalf("end = %s by %q, want RolledBack, asked by bob", e.Status, e.RollbackRequestedBy)
	}
}

func TestNewLeaderResumesMidStep(t *testing.T) {
	b := newBed(t)
	id := b.create(time.Hour, "s1", "s2")
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.o.Run(ctx); close(done) }()
	waitFor(t, "s1 sent", func() bool { return len(b.disp.executes()) == 1 })
	b.o.StepResult("a1", succeeded(id, "s1", 1))
	waitFor(t, "s2 running", func() bool { return b.step(id, "s2").Status == domain.StepRunning && len(b.disp.executes()) == 2 })
	first := b.disp.executes()[1]

	stop() // leadership lost
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the orchestrator did not stop when its leadership ended")
	}

	disp2 := &fakeDispatcher{offline: map[string]bool{}}
	o2 := b.orchestrator(disp2)
	o2.reconcile(context.Background())
	sent := disp2.executes()
	if len(sent) != 1 {
		t.Fatalf("the new leader sent %d steps, want only the running one", len(sent))
	}
	again := sent[0]
	if again.GetStepId() != "s2" || again.GetExecutionId() != id || again.GetAttempt() != first.GetAttempt() ||
		again.GetFencingToken() != first.GetFencingToken() {
		t.Fatalf("re-delivered %s attempt %d token %d, want s2 attempt %d token %d", again.GetStepId(), again.GetAttempt(),
			again.GetFencingToken(), first.GetAttempt(), first.GetFencingToken())
	}
	if s := b.step(id, "s2"); s.Attempt != 1 {
		t.Errorf("s2 attempt = %d, want 1: a re-delivery is not a new attempt", s.Attempt)
	}
	o2.reconcile(context.Background())
	if n := len(disp2.executes()); n != 1 {
		t.Errorf("the new leader sent s2 %d times in one leadership, want once", n)
	}
	b.report(o2, &agentpb.StepResult{ExecutionId: id, StepId: "s2", Attempt: 1, AlreadyApplied: true, Transactional: true})
	if e := b.execution(id); e.Status != domain.ExecutionSucceeded || !b.step(id, "s2").AlreadyApplied {
		t.Fatalf("end = %s, s2 already applied %v; want Succeeded", e.Status, b.step(id, "s2").AlreadyApplied)
	}
}

func TestStepWaitsForItsAgent(t *testing.T) {
	b := newBed(t)
	b.disp.offline["a1"] = true
	id := b.create(time.Hour, "s1")
	b.reconcile()
	if s := b.step(id, "s1"); s.Status != domain.StepRunning || len(b.disp.executes()) != 0 {
		t.Fatalf("s1 = %s, sent %d; want Running and not sent", s.Status, len(b.disp.executes()))
	}
	b.disp.mu.Lock()
	b.disp.offline["a1"] = false
	b.disp.mu.Unlock()
	b.reconcile()
	if got := b.disp.executes(); len(got) != 1 || got[0].GetAttempt() != 1 {
		t.Fatalf("sent %v once the agent is back, want s1 attempt 1", got)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func logText(e domain.Execution) string {
	var sb strings.Builder
	for _, l := range e.Logs {
		sb.WriteString(l.Message + "\n")
	}
	return sb.String()
}

func TestStepEventsCommittedWithTheResult(t *testing.T) {
	b := newBed(t)
	id := b.create(time.Hour, "s1")
	b.reconcile()
	b.o.receive(context.Background(), inbound{agent: "a1", event: &agentpb.StepEvent{ExecutionId: id, StepId: "s1",
		Level: "info", Message: "statement 1 of 1 done", Done: &agentpb.StatementResult{Index: 0, Sql: "ALTER TABLE t ADD COLUMN c int"}}})
	entries := b.raft.index
	b.report(b.o, succeeded(id, "s1", 1))
	if n := b.raft.index - entries; n != 1 {
		t.Fatalf("%d entries for the events and the result, want 1", n)
	}
	e := b.execution(id)
	text := logText(e)
	if e.Status != domain.ExecutionSucceeded || len(e.Steps[0].Statements) != 1 ||
		strings.Index(text, "statement 1 of 1 done") > strings.Index(text, "step s1 (forward) succeeded") {
		t.Fatalf("status %s, statements %+v, log:\n%s\nwant the event's line and statement before the result", e.Status, e.Steps[0].Statements, text)
	}
}

// TestStatementLogsSurviveFailover: the events of a step reached a leader
// that died before committing them; the new leader gets them with the
// step's result and commits them once each, also those the old leader did
// commit.
func TestStatementLogsSurviveFailover(t *testing.T) {
	b := newBed(t)
	id := b.create(time.Hour, "s1")
	b.reconcile()
	ev := func(ms int64, msg string) *agentpb.StepEvent {
		return &agentpb.StepEvent{ExecutionId: id, StepId: "s1", TimeUnixMs: b.clock.Now().UnixMilli() + ms, Level: "info", Message: msg}
	}
	committed, lost := ev(1, "statement 1 done in 2.0 ms (attempt 1)"), ev(2, "statement 2 done in 3.0 ms (attempt 1)")
	b.must(fsm.StepEventsRequest{ExecutionID: id, Logs: []domain.LogEntry{logEntryOf(committed)}}) // the old leader's last flush
	b.o.receive(context.Background(), inbound{agent: "a1", event: lost})                           // buffered, then the leader died

	o2 := b.orchestrator(b.disp) // the new leader: nothing buffered
	res := succeeded(id, "s1", 1)
	res.Events = []*agentpb.StepEvent{committed, lost}
	b.report(o2, res)
	e := b.execution(id)
	text := logText(e)
	if e.Status != domain.ExecutionSucceeded {
		t.Fatalf("status %s, want Succeeded\n%s", e.Status, text)
	}
	for _, msg := range []string{committed.Message, lost.Message} {
		if n := strings.Count(text, msg); n != 1 {
			t.Errorf("%q is in the log %d times, want once:\n%s", msg, n, text)
		}
	}
	if strings.Index(text, lost.Message) > strings.Index(text, "step s1 (forward) succeeded") {
		t.Errorf("the step's lines come after its result:\n%s", text)
	}
}
