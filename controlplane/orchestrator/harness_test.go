package orchestrator

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/proto/agentpb"
)

// localRaft is a one-node Raft that applies each command to a real FSM
// synchronously, as the leader's log would: one index per command.
type localRaft struct {
	mu      sync.Mutex
	f       *fsm.FSM
	index   uint64
	applied []fsm.Command
}

func newLocalRaft() *localRaft { return &localRaft{f: fsm.New(nil)} }

func (r *localRaft) State() *fsm.State { return r.f.State() }

func (r *localRaft) Apply(_ context.Context, c fsm.Command) (uint64, error) {
	data, err := fsm.Encode(c)
	if err != nil {
		return 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.index++
	r.applied = append(r.applied, c)
	if res, ok := r.f.Apply(&raft.Log{Index: r.index, Type: raft.LogCommand, Data: data}).(error); ok && res != nil {
		return r.index, res
	}
	return r.index, nil
}

// count returns how many commands of type t were committed.
func (r *localRaft) count(t fsm.MessageType) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.applied {
		if c.Type() == t {
			n++
		}
	}
	return n
}

// fakeDispatcher records what the orchestrator sends to each agent.
type fakeDispatcher struct {
	mu      sync.Mutex
	sent    []sentMessage
	offline map[string]bool
}

type sentMessage struct {
	agent string
	msg   *agentpb.ServerMessage
}

func (d *fakeDispatcher) Send(agent string, m *agentpb.ServerMessage) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.offline[agent] {
		return errors.New("agent not connected")
	}
	d.sent = append(d.sent, sentMessage{agent, m})
	return nil
}

// executes returns the ExecuteStep messages sent, in order.
func (d *fakeDispatcher) executes() []*agentpb.ExecuteStep {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []*agentpb.ExecuteStep
	for _, s := range d.sent {
		if x := s.msg.GetExecute(); x != nil {
			out = append(out, x)
		}
	}
	return out
}

// cancels returns the CancelStep messages sent, in order.
func (d *fakeDispatcher) cancels() []*agentpb.CancelStep {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []*agentpb.CancelStep
	for _, s := range d.sent {
		if x := s.msg.GetCancel(); x != nil {
			out = append(out, x)
		}
	}
	return out
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// bed is one orchestrator over a local Raft, a fake dispatcher and a fake
// clock, with one database (agent a1, instance pg-1) and one migration.
type bed struct {
	t     *testing.T
	raft  *localRaft
	disp  *fakeDispatcher
	clock *fakeClock
	o     *Orchestrator
}

func newBed(t *testing.T) *bed {
	t.Helper()
	b := &bed{t: t, raft: newLocalRaft(), disp: &fakeDispatcher{offline: map[string]bool{}},
		clock: &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}}
	b.o = b.orchestrator(b.disp)
	b.must(fsm.CreateAgentRequest{Agent: domain.Agent{Name: "a1"}, TokenHash: "h"})
	b.must(fsm.CreateDatabaseRequest{Database: domain.Database{DatabaseID: "db-1", Name: "orders", Type: domain.PostgreSQL,
		Instances: []domain.InstanceRef{{Agent: "a1", InstanceID: "pg-1", Role: domain.RoleMaster}}}})
	b.must(fsm.CreateMigrationRequest{Migration: domain.Migration{MigrationID: "mig-1", Name: "add_column", TargetDatabaseID: "db-1",
		MigrationScript: "ALTER TABLE t ADD COLUMN c int;", RollbackScript: "ALTER TABLE t DROP COLUMN c;"}})
	return b
}

// orchestrator returns a new orchestrator on the bed's state: what a new
// leader runs.
func (b *bed) orchestrator(d Dispatcher) *Orchestrator {
	return New(Config{Raft: b.raft, Dispatcher: d, Logger: hclog.NewNullLogger(), Clock: b.clock.Now, Tick: 5 * time.Millisecond})
}

func (b *bed) must(c fsm.Command) {
	b.t.Helper()
	if _, err := b.raft.Apply(context.Background(), c); err != nil {
		b.t.Fatalf("apply %T: %v", c, err)
	}
}

// create commits an execution of mig-1 on db-1 with the given steps, each
// an apply step on a1/pg-1 in the phase its index says.
func (b *bed) create(timeout time.Duration, phases ...string) string {
	b.t.Helper()
	return b.createAs("exec-1", timeout, phases...)
}

// createAs is create with the execution's ID.
func (b *bed) createAs(id string, timeout time.Duration, phases ...string) string {
	b.t.Helper()
	e := domain.Execution{ExecutionID: id, MigrationID: "mig-1", DatabaseID: "db-1", Strategy: domain.Direct,
		Status: domain.ExecutionPending, InitiatedBy: "alice", TimeoutSeconds: int64(timeout / time.Second),
		LockTimeoutMs: 500, CreatedAt: b.clock.Now(), Decisions: []domain.Decision{}}
	for i, p := range phases {
		e.Steps = append(e.Steps, domain.Step{StepID: p, Kind: domain.StepApply, PhaseIndex: i, Phase: p,
			Direction: domain.Forward, Agent: "a1", InstanceID: "pg-1", Status: domain.StepPending})
		e.Phases = append(e.Phases, domain.PhaseView{Index: i, Name: p})
	}
	b.must(fsm.CreateExecutionRequest{Execution: e})
	return e.ExecutionID
}

func (b *bed) execution(id string) domain.Execution {
	b.t.Helper()
	e, err := b.raft.State().Execution(id)
	if err != nil {
		b.t.Fatal(err)
	}
	return e
}

func (b *bed) step(id, step string) domain.Step {
	b.t.Helper()
	e := b.execution(id)
	s, ok := e.Step(step)
	if !ok {
		b.t.Fatalf("execution %s has no step %s", id, step)
	}
	return *s
}

// reconcile runs one pass of the orchestrator, as a tick would.
func (b *bed) reconcile() { b.o.reconcile(context.Background()) }

// report delivers an agent's result to the orchestrator, as its stream would.
func (b *bed) report(o *Orchestrator, r *agentpb.StepResult) {
	o.receive(context.Background(), inbound{agent: "a1", result: r})
}

func succeeded(exec, step string, attempt int32) *agentpb.StepResult {
	return &agentpb.StepResult{ExecutionId: exec, StepId: step, Attempt: attempt, Transactional: true}
}
