// Package orchestrator drives executions on the leader: it starts them when
// their database's lock is free, hands each step to its agent, records what
// the agent reports, and rolls back what was applied when a step fails, a
// rollback is asked for, or the execution times out. Every decision is a
// Raft command, so a new leader picks up where the old one stopped: one
// typed command per kind of change (steps dispatched, a step's result, a
// guard decision, rollback started, ended, a fleet wave created), carrying
// only the change; the FSM checks the transition and derives the rest.
package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.opentelemetry.io/otel/trace"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/controlplane/monitor"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/proto/agentpb"
)

// Raft is what the orchestrator needs of the local Raft node.
type Raft interface {
	State() *fsm.State
	Apply(ctx context.Context, c fsm.Command) (uint64, error)
}

// Dispatcher sends messages to connected agents.
type Dispatcher interface {
	Send(agent string, m *agentpb.ServerMessage) error
}

// Config tunes the orchestrator.
type Config struct {
	Raft          Raft
	Dispatcher    Dispatcher
	Logger        hclog.Logger
	MaxConcurrent int              // executions running at once; default 10
	Tick          time.Duration    // how often state is reconciled; default 100ms
	Clock         func() time.Time // default time.Now
	// Store holds the samples agents stream; the orchestrator reads
	// baselines and replication lag from it.
	Store *monitor.Store
	// Tracing makes the spans of executions and steps (nil: none).
	Tracing trace.TracerProvider
}

// Orchestrator runs executions. Run it only on the leader.
type Orchestrator struct {
	cfg   Config
	inbox chan inbound
	// kicks asks for a reconcile now rather than at the next tick.
	kicks chan struct{}

	// dispatched remembers which step attempts were handed to their agent
	// during this leadership; a new leader starts empty and re-sends, which
	// agents recognise.
	mu         sync.Mutex
	dispatched map[string]bool
	cancelled  map[string]bool
	logs       map[string][]domain.LogEntry
	done       map[string]map[string][]domain.StatementResult // by execution, then step
	lag        map[string]map[monitor.Key]*lagWatch
	snapAt     map[string]time.Time
	windows    map[string]*windowWatch

	spans *spans
}

type inbound struct {
	agent  string
	event  *agentpb.StepEvent
	result *agentpb.StepResult
	breach *agentpb.GuardBreach
}

// New returns an orchestrator.
func New(cfg Config) *Orchestrator {
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = 10
	}
	if cfg.Tick <= 0 {
		cfg.Tick = 100 * time.Millisecond
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Store == nil {
		cfg.Store = monitor.NewStore(0)
	}
	o := &Orchestrator{cfg: cfg, inbox: make(chan inbound, 4096), kicks: make(chan struct{}, 1), dispatched: map[string]bool{},
		cancelled: map[string]bool{}, logs: map[string][]domain.LogEntry{}, done: map[string]map[string][]domain.StatementResult{},
		lag: map[string]map[monitor.Key]*lagWatch{}, snapAt: map[string]time.Time{}, windows: map[string]*windowWatch{}}
	o.spans = newSpans(cfg.Tracing, o.checkedTrace)
	return o
}

// AgentConnected forgets what was sent to the agent, so running steps are
// sent again to its new session.
func (o *Orchestrator) AgentConnected(agent string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for k := range o.dispatched {
		if agentOfKey(k) == agent {
			delete(o.dispatched, k)
		}
	}
	for k := range o.cancelled {
		if agentOfKey(k) == agent {
			delete(o.cancelled, k)
		}
	}
}

// StepEvent queues a step's progress report.
func (o *Orchestrator) StepEvent(agent string, ev *agentpb.StepEvent) {
	o.enqueue(inbound{agent: agent, event: ev})
}

// StepResult queues a step's result.
func (o *Orchestrator) StepResult(agent string, res *agentpb.StepResult) {
	o.enqueue(inbound{agent: agent, result: res})
}

// enqueue never blocks an agent's stream: when the inbox is full the report
// is dropped, and the step is re-sent later, which the agent answers again.
func (o *Orchestrator) enqueue(in inbound) {
	select {
	case o.inbox <- in:
	default:
		o.cfg.Logger.Warn("orchestrator inbox full; dropping a step report", "agent", in.agent)
		if r := in.result; r != nil {
			o.forget(in.agent, r)
		}
	}
}

// forget marks a step attempt as not sent, so it is sent again and its
// agent answers again with its result.
func (o *Orchestrator) forget(agent string, r *agentpb.StepResult) {
	o.mu.Lock()
	delete(o.dispatched, stepKey(agent, r.GetExecutionId(), r.GetStepId(), int(r.GetAttempt())))
	o.mu.Unlock()
}

// Run drives executions until ctx ends (leadership lost).
func (o *Orchestrator) Run(ctx context.Context) {
	o.reset()
	defer o.spans.dropAll()
	tick := time.NewTicker(o.cfg.Tick)
	defer tick.Stop()
	soon := time.NewTimer(time.Hour)
	defer soon.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case in := <-o.inbox:
			o.receive(ctx, in)
			if in.result != nil || in.breach != nil {
				soon.Reset(reactDelay) // a step ended: move on without waiting for the tick
			}
		case <-soon.C:
			o.reconcile(ctx)
		case <-o.kicks:
			o.reconcile(ctx)
		case <-tick.C:
			o.flushEvents(ctx)
			o.reconcile(ctx)
		}
	}
}

// kick asks for another reconcile as soon as the current one ends: new
// executions were created, or one ended and its fleet may move on.
func (o *Orchestrator) kick() {
	select {
	case o.kicks <- struct{}{}:
	default:
	}
}

// reactDelay gathers the results that arrive together before reconciling.
const reactDelay = 2 * time.Millisecond

func (o *Orchestrator) reset() {
	o.mu.Lock()
	defer o.mu.Unlock()
	clear(o.dispatched)
	clear(o.cancelled)
	clear(o.logs)
	clear(o.done)
	clear(o.lag)
	clear(o.snapAt)
	clear(o.windows)
}

// reconcile moves every unfinished execution one step further.
func (o *Orchestrator) reconcile(ctx context.Context) {
	running := o.runningCount()
	// Executions move on concurrently: each Raft commit waits for its
	// write to disk, and Raft batches concurrent ones into one.
	var wg sync.WaitGroup
	sem := make(chan struct{}, reconcileWorkers)
	each := func(fn func()) {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn()
		}()
	}
	active := o.cfg.Raft.State().Executions(func(e *domain.Execution) bool { return !e.Status.Terminal() })
	defer o.prune(active)
	// Executions wait for a database in the order they were created (active
	// is in that order): only a database's oldest pending one may start.
	queuedOn := map[string]bool{}
	for _, e := range active {
		if ctx.Err() != nil {
			break
		}
		switch e.Status {
		case domain.ExecutionPending:
			if e.DatabaseID != "" {
				if queuedOn[e.DatabaseID] {
					continue
				}
				queuedOn[e.DatabaseID] = true
			}
			if e.Fleet == nil && running >= o.cfg.MaxConcurrent {
				continue
			}
			if e.Fleet == nil {
				running++ // the slot is taken even if the lock turns out held
			}
			each(func() {
				if o.start(ctx, e) {
					o.driveFresh(ctx, e.ExecutionID) // no need to wait for the next tick
				}
			})
		case domain.ExecutionRunning:
			each(func() { o.runningTick(ctx, e) })
		case domain.ExecutionPaused:
			each(func() { o.pausedTick(ctx, e) })
		}
	}
	wg.Wait()
}

// prune forgets the in-memory watches of executions that ended.
func (o *Orchestrator) prune(active []domain.Execution) {
	live := make(map[string]bool, len(active))
	for _, e := range active {
		live[e.ExecutionID] = true
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for id := range o.lag {
		if !live[id] {
			delete(o.lag, id)
		}
	}
	for id := range o.snapAt {
		if !live[id] {
			delete(o.snapAt, id)
		}
	}
	for key := range o.windows {
		if id, _, _ := strings.Cut(key, "|"); !live[id] {
			delete(o.windows, key)
		}
	}
	o.spans.ended(live, func(id string) (domain.Execution, bool) {
		e, err := o.cfg.Raft.State().Execution(id)
		return e, err == nil
	})
}

// reconcileWorkers bounds the executions moved on at once.
const reconcileWorkers = 32

func (o *Orchestrator) now() time.Time { return o.cfg.Clock().UTC() }

// commit applies one command about an execution. A refusal (the execution
// moved on meanwhile: a rollback was asked for, a duplicate result) is
// expected and logged quietly: the next reconcile reads the new state.
func (o *Orchestrator) commit(ctx context.Context, what, id string, c fsm.Command) error {
	_, err := o.cfg.Raft.Apply(ctx, c)
	switch {
	case errors.Is(err, fsm.ErrConflict):
		o.cfg.Logger.Debug(what+": refused", "execution", id, "error", err)
	case err != nil:
		o.cfg.Logger.Warn(what, "execution", id, "error", err)
	}
	return err
}

func logEntry(at time.Time, level, format string, a ...any) domain.LogEntry {
	return domain.LogEntry{Time: at, Level: level, Message: fmt.Sprintf(format, a...)}
}
