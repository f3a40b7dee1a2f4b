package orchestrator

import (
	"context"
	"time"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/controlplane/monitor"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/guard"
	"github.com/hotswap-db/hotswap/proto/agentpb"
)

// snapshotEvery is how often an execution keeps its instances' latest
// samples: committed in batches, never one Raft entry per sample.
const snapshotEvery = 2 * time.Second

// lagLookback is how far back a new lag watch reads samples.
const lagLookback = 5 * time.Second

// lagWatch follows one instance's replication lag for one execution.
type lagWatch struct {
	eval   *guard.Lag
	last   time.Time
	paused bool
}

// Samples keeps an agent's samples in the leader's ring buffers.
func (o *Orchestrator) Samples(agent string, batch []*agentpb.Sample) {
	samples := make([]domain.Sample, 0, len(batch))
	for _, s := range batch {
		samples = append(samples, agentpb.SampleToDomain(s))
	}
	o.cfg.Store.Add(agent, samples)
}

// Breach queues an agent's report that a watched instance degraded.
func (o *Orchestrator) Breach(agent string, b *agentpb.GuardBreach) {
	o.enqueue(inbound{agent: agent, breach: b})
}

// baseline computes what the step's watched instance looked like before it
// starts. For a pooler switch that is the instance serving the traffic
// until then, under the same traffic: its Source says so, and the latency
// rule matches its statements by text on the instance the traffic goes to.
func (o *Orchestrator) baseline(e *domain.Execution, s *domain.Step) domain.Baseline {
	window := time.Duration(e.Monitoring.BaselineWindowSeconds) * time.Second
	now := o.now()
	from := baselineKey(e, s)
	b := guard.Compute(o.cfg.Store.Range(from, now.Add(-window), now))
	if from != watchedKey(e, s) {
		b.Source = from.Agent + "/" + from.Instance
	}
	return b
}

// baselineKey is the instance whose past makes a step's baseline: for a
// pooler switch, the instance serving the traffic before it.
func baselineKey(e *domain.Execution, s *domain.Step) monitor.Key {
	if s.Kind == domain.StepSwitch && e.BlueGreen != nil {
		from := e.BlueGreen.Blue
		if s.SwitchTo != "green" {
			from = e.BlueGreen.Green
		}
		return monitor.Key{Agent: from.Agent, Instance: from.InstanceID}
	}
	return monitor.Key{Agent: s.Agent, Instance: s.InstanceID}
}

// watchedKey is the instance whose counters judge a step: its own, or for
// a pooler switch the instance the traffic goes to.
func watchedKey(e *domain.Execution, s *domain.Step) monitor.Key {
	if s.Kind == domain.StepSwitch && e.BlueGreen != nil {
		target := e.BlueGreen.Green
		if s.SwitchTo != "green" {
			target = e.BlueGreen.Blue
		}
		return monitor.Key{Agent: target.Agent, Instance: target.InstanceID}
	}
	return monitor.Key{Agent: s.Agent, Instance: s.InstanceID}
}

// windowWatch is the leader's own check of a monitor window's samples.
type windowWatch struct {
	eval *guard.Rollback
	last time.Time
}

// watchWindow evaluates the rollback rules on the leader, over the samples
// the agents stream, for the steps in their monitor window: a backstop for
// the agents' own checks, and the only check after a pooler switch.
func (o *Orchestrator) watchWindow(ctx context.Context, e domain.Execution) {
	if e.DryRun || e.RollbackRequested || e.MonitorUntil.IsZero() || o.now().After(e.MonitorUntil) {
		return
	}
	for i := range e.Steps {
		s := &e.Steps[i]
		if s.Direction != domain.Forward || s.Status != domain.StepSucceeded || s.Baseline == nil ||
			(s.Kind != domain.StepApply && s.Kind != domain.StepSwitch) || judgedThroughSwitch(e, s) {
			continue
		}
		if d, ok := o.windowDecision(e, s); ok {
			_ = o.commit(ctx, "commit window decision", e.ExecutionID, fsm.DecisionRequest{ExecutionID: e.ExecutionID,
				Decision: d, StepID: s.StepID, DecidedBy: "leader", At: o.now()})
			return
		}
	}
}

// judgedThroughSwitch reports whether s, a BlueGreen step that changed
// green, is now judged by the switch that sent the traffic to green:
// against blue's baseline under that traffic, not green's own idle one.
func judgedThroughSwitch(e domain.Execution, s *domain.Step) bool {
	if e.BlueGreen == nil || s.Kind != domain.StepApply {
		return false
	}
	for _, sw := range e.Steps {
		if sw.Kind == domain.StepSwitch && sw.Direction == domain.Forward && sw.Status == domain.StepSucceeded &&
			sw.SwitchTo == "green" && watchedKey(&e, &sw) == (monitor.Key{Agent: s.Agent, Instance: s.InstanceID}) {
			return true
		}
	}
	return false
}

func (o *Orchestrator) windowDecision(e domain.Execution, s *domain.Step) (domain.Decision, bool) {
	k := watchedKey(&e, s)
	id := e.ExecutionID + "|" + s.StepID
	o.mu.Lock()
	w, ok := o.windows[id]
	if !ok {
		w = &windowWatch{eval: guard.NewRollback(e.Monitoring.Thresholds, *s.Baseline), last: s.CompletedAt}
		o.windows[id] = w
	}
	o.mu.Unlock()
	for _, smp := range o.cfg.Store.Range(k, w.last.Add(time.Nanosecond), o.now().Add(time.Hour)) {
		w.last = smp.At
		if d, ok := w.eval.Observe(smp); ok {
			d.Against = againstText(e, *s.Baseline)
			return d, true
		}
	}
	return domain.Decision{}, false
}

// againstText names another instance's baseline a decision judged by,
// with its figures; "" for the watched instance's own.
func againstText(e domain.Execution, b domain.Baseline) string {
	if b.Source == "" {
		return ""
	}
	who := "the baseline of " + b.Source
	if bg := e.BlueGreen; bg != nil && b.Source == bg.Blue.Agent+"/"+bg.Blue.InstanceID {
		who = "blue " + b.Source + "'s baseline"
	}
	return who + ", taken while it served the same traffic before the switch (" + b.Summary() + ")"
}

// guardFor is the guard sent with a step: its baseline and thresholds.
func guardFor(e domain.Execution, s domain.Step) (*agentpb.Guard, int64) {
	if e.DryRun || s.Kind != domain.StepApply || s.Direction == domain.Rollback {
		// The leader watches the windows of other kinds; and a rollback is
		// never cancelled for the degradation it is there to cure.
		return nil, 0
	}
	var base domain.Baseline
	if s.Baseline != nil {
		base = *s.Baseline
	}
	interval := time.Duration(e.Monitoring.SampleIntervalMs) * time.Millisecond
	g := agentpb.GuardFromDomain(e.Monitoring.Thresholds.WithDefaults(), base, interval)
	return g, int64(e.Monitoring.MonitorWindowSeconds) * 1000
}

// applyBreach records an agent's guard decision made in a monitor window
// and rolls back what the execution applied.
func (o *Orchestrator) applyBreach(ctx context.Context, agent string, b *agentpb.GuardBreach) {
	e, err := o.cfg.Raft.State().Execution(b.GetExecutionId())
	if err != nil || e.Status.Terminal() || e.RollingBack || e.RollbackRequested {
		return
	}
	_ = o.commit(ctx, "record guard breach", e.ExecutionID, fsm.DecisionRequest{ExecutionID: e.ExecutionID,
		Decision: agentpb.BreachToDecision(b), StepID: b.GetStepId(), DecidedBy: "agent " + agent, At: o.now()})
}

// watchLag feeds an execution's new samples to the replication lag rule of
// each of its database's instances, pausing the execution while any lags
// and resuming it once none does.
func (o *Orchestrator) watchLag(ctx context.Context, e domain.Execution) {
	db, err := o.cfg.Raft.State().Database(e.DatabaseID)
	if err != nil || e.DryRun {
		return
	}
	watches := o.lagWatches(e, db)
	for _, ref := range db.Instances {
		k := monitor.Key{Agent: ref.Agent, Instance: ref.InstanceID}
		w := watches[k]
		for _, s := range o.cfg.Store.Range(k, w.last.Add(time.Nanosecond), o.now().Add(time.Hour)) {
			w.last = s.At
			if d, ok := w.eval.Observe(s); ok {
				w.paused = d.Action == "pause"
				o.commitLagDecision(ctx, e.ExecutionID, d, anyPaused(watches))
			}
		}
	}
}

func (o *Orchestrator) lagWatches(e domain.Execution, db domain.Database) map[monitor.Key]*lagWatch {
	o.mu.Lock()
	defer o.mu.Unlock()
	watches, ok := o.lag[e.ExecutionID]
	if !ok {
		watches = map[monitor.Key]*lagWatch{}
		o.lag[e.ExecutionID] = watches
	}
	paused := e.Status == domain.ExecutionPaused
	for _, ref := range db.Instances {
		k := monitor.Key{Agent: ref.Agent, Instance: ref.InstanceID}
		if _, ok := watches[k]; !ok {
			// Recent samples count: a database already lagging is paused
			// before its first step starts.
			watches[k] = &lagWatch{eval: guard.NewLag(e.Monitoring.Thresholds, paused), paused: paused,
				last: o.now().Add(-lagLookback)}
		}
	}
	return watches
}

func anyPaused(watches map[monitor.Key]*lagWatch) bool {
	for _, w := range watches {
		if w.paused {
			return true
		}
	}
	return false
}

// commitLagDecision pauses or resumes the execution: it resumes only once
// no instance of its database lags.
func (o *Orchestrator) commitLagDecision(ctx context.Context, id string, d domain.Decision, stillLagging bool) {
	if d.Action == "resume" && stillLagging {
		return
	}
	e, err := o.cfg.Raft.State().Execution(id)
	if err != nil {
		return
	}
	pause := d.Action == "pause" && e.Status == domain.ExecutionRunning && !e.RollingBack && !e.RollbackRequested
	resume := d.Action == "resume" && e.Status == domain.ExecutionPaused && e.PausedBy == ""
	if pause || resume {
		_ = o.commit(ctx, "commit lag decision", id, fsm.DecisionRequest{ExecutionID: id, Decision: d, DecidedBy: "leader", At: o.now()})
	}
}

// keepSnapshots commits, every few seconds, each instance's newest sample
// with the execution.
func (o *Orchestrator) keepSnapshots(ctx context.Context, e domain.Execution) {
	o.mu.Lock()
	last := o.snapAt[e.ExecutionID]
	due := o.now().Sub(last) >= snapshotEvery
	if due {
		o.snapAt[e.ExecutionID] = o.now()
	}
	o.mu.Unlock()
	if !due {
		return
	}
	db, err := o.cfg.Raft.State().Database(e.DatabaseID)
	if err != nil {
		return
	}
	var batch []domain.Snapshot
	for _, ref := range db.Instances {
		s, ok := o.cfg.Store.Latest(monitor.Key{Agent: ref.Agent, Instance: ref.InstanceID})
		if ok && s.At.After(last) {
			// The per-statement figures stay in memory: the baselines keep
			// what the latency rule judged by.
			s.Statements = nil
			batch = append(batch, domain.Snapshot{Agent: ref.Agent, Sample: s})
		}
	}
	if len(batch) == 0 {
		return
	}
	if _, err := o.cfg.Raft.Apply(ctx, fsm.AppendSnapshotsRequest{ExecutionID: e.ExecutionID, Snapshots: batch}); err != nil {
		o.cfg.Logger.Warn("keep snapshots", "execution", e.ExecutionID, "error", err)
	}
}

// unpauseToRollBack lets a paused execution roll back: a rollback request
// or the timeout wins over a pause.
func (o *Orchestrator) unpauseToRollBack(ctx context.Context, e domain.Execution) {
	_ = o.commit(ctx, "unpause to roll back", e.ExecutionID, fsm.ResumeExecutionRequest{ExecutionID: e.ExecutionID,
		By: "hotswap (automatic)", Reason: "to roll it back", At: o.now()})
}
