package agent

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/servershare"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/guard"
	"github.com/hotswap-db/hotswap/internal/hostmetrics"
	"github.com/hotswap-db/hotswap/proto/agentpb"
)

// watcher samples the instances' native counters and the host's, every
// SampleInterval, and every guard interval while a step runs on an instance
// or is in its monitor window; it evaluates the steps' guards on each sample.
type watcher struct {
	mu        sync.Mutex
	instances map[string]*watched // by instance id
	host      *hostmetrics.Reader
}

// watched is one instance's sampling state.
type watched struct {
	sampler   dialect.Sampler
	lastAt    time.Time
	fastEvery time.Duration
	guards    []*activeGuard
}

// activeGuard watches one step on one instance.
type activeGuard struct {
	execID, stepID string
	eval           *guard.Rollback
	running        bool      // the step runs: a breach cancels it
	until          time.Time // end of the monitor window once it ended
	onBreach       func(domain.Decision)
}

func newWatcher(procRoot string) *watcher {
	return &watcher{instances: map[string]*watched{}, host: hostmetrics.New(procRoot)}
}

// sampleLoop runs for the agent's life.
func (a *Agent) sampleLoop(ctx context.Context) {
	tick := time.NewTicker(minFastInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if batch := a.sampleDue(ctx, now); len(batch) > 0 {
				a.send(&agentpb.AgentMessage{Body: &agentpb.AgentMessage_Samples{Samples: &agentpb.Samples{Samples: batch}}})
			}
		}
	}
}

// minFastInterval is the finest sampling the agent does.
const minFastInterval = 50 * time.Millisecond

// sampleDue samples the instances whose interval has passed and feeds the
// samples to their guards.
func (a *Agent) sampleDue(ctx context.Context, now time.Time) []*agentpb.Sample {
	var due []agentconfig.InstanceConfig
	for _, in := range a.cfg.Instances {
		if a.watch.isDue(in.ID, now, a.cfg.SampleInterval) {
			due = append(due, in)
		}
	}
	if len(due) == 0 {
		return nil
	}
	host, hostErr := a.watch.host.Read()
	// The tick is one round: its samples share one reading of each
	// server's server-wide figures, as they share the host's.
	ctx = servershare.WithRound(ctx, uint64(now.UnixNano()))
	var batch []*agentpb.Sample
	for _, in := range due {
		s, err := a.sampleOne(ctx, in)
		if err != nil {
			a.log.Debug("sample", "instance", in.ID, "error", a.scrub(err.Error()))
			continue
		}
		if hostErr == nil {
			s.CPUPercent, s.DiskIOPS = host.CPUPercent, host.DiskIOPS
		}
		a.watch.observe(in.ID, s, a)
		batch = append(batch, agentpb.SampleFromDomain(s))
	}
	return batch
}

func (w *watcher) isDue(id string, now time.Time, every time.Duration) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.state(id)
	if st.fastEvery > 0 && len(st.guards) > 0 {
		every = st.fastEvery
	}
	if now.Sub(st.lastAt) < every-minFastInterval/2 {
		return false
	}
	st.lastAt = now
	return true
}

// state returns an instance's sampling state; the caller holds w.mu.
func (w *watcher) state(id string) *watched {
	st, ok := w.instances[id]
	if !ok {
		st = &watched{}
		w.instances[id] = st
	}
	return st
}

func (a *Agent) sampleOne(ctx context.Context, in agentconfig.InstanceConfig) (domain.Sample, error) {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.ProbeTimeout)
	defer cancel()
	sampler, err := a.sampler(ctx, in)
	if err != nil {
		return domain.Sample{}, err
	}
	started := time.Now()
	s, err := sampler.Sample(ctx)
	a.metrics.observeSample(in.ID, time.Since(started), err)
	s.InstanceID = in.ID
	return s, err
}

// sampler returns the instance's sampler, made on first use.
func (a *Agent) sampler(ctx context.Context, in agentconfig.InstanceConfig) (dialect.Sampler, error) {
	a.watch.mu.Lock()
	st := a.watch.state(in.ID)
	s := st.sampler
	a.watch.mu.Unlock()
	if s != nil {
		return s, nil
	}
	conn, err := a.conn(ctx, in)
	if err != nil {
		return nil, err
	}
	s = conn.NewSampler()
	a.watch.mu.Lock()
	st.sampler = s
	a.watch.mu.Unlock()
	return s, nil
}

// observe feeds a sample to the instance's guards and acts on a breach:
// a running step is cancelled at once, a monitor window reports it.
func (w *watcher) observe(id string, s domain.Sample, a *Agent) {
	w.mu.Lock()
	st := w.state(id)
	var keep []*activeGuard
	var fired []func()
	for _, g := range st.guards {
		if !g.running && s.At.After(g.until) {
			continue // monitor window over
		}
		d, breach := g.eval.Observe(s)
		if !breach {
			keep = append(keep, g)
			continue
		}
		fired = append(fired, a.breachAction(g, d))
	}
	st.guards = keep
	w.mu.Unlock()
	for _, f := range fired {
		f()
	}
}

func (a *Agent) breachAction(g *activeGuard, d domain.Decision) func() {
	if g.running {
		return func() { g.onBreach(d) }
	}
	return func() {
		a.log.Warn("guard breach in the monitor window", "execution", g.execID, "step", g.stepID, "reason", d.Reason())
		a.send(&agentpb.AgentMessage{Body: &agentpb.AgentMessage_Breach{Breach: agentpb.BreachFromDecision(g.execID, g.stepID, d)}})
	}
}

// reportGuardState says in the step's log how its latency rule judges:
// per statement (how many), or not armed and why.
func (a *Agent) reportGuardState(m *agentpb.ExecuteStep, g *activeGuard) {
	ev := dialect.StepEvent{Time: time.Now(), Level: "info"}
	switch armed, why := g.eval.LatencyArmed(); {
	case !armed:
		ev.Level, ev.Message = "warn", "latency rule not armed: "+why
	case len(m.GetGuard().GetStatements()) > 0:
		ev.Message = fmt.Sprintf("latency rule armed: %d statement(s) judged against their own baselines",
			len(m.GetGuard().GetStatements()))
	default:
		ev.Message = fmt.Sprintf("latency rule armed on the average latency (%.3f ms)", m.GetGuard().GetBaselineLatencyMs())
	}
	a.sendEvent(m, ev)
}

// watchStep starts guarding a step on its instance.
func (w *watcher) watchStep(id string, g *activeGuard, every time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.state(id)
	st.guards = append(st.guards, g)
	if every >= minFastInterval {
		st.fastEvery = every
	}
	// The first fast sample comes at most one fast interval into the step,
	// at the next multiple of the interval: a step done sooner mostly costs
	// no extra sample (and a sample at its start would only measure the
	// time before it), and the instances guarded at one interval are
	// sampled in the same ticks, where they share the readings of their
	// server's server-wide figures.
	st.lastAt = alignedStart(time.Now(), every)
}

// alignedStart is the last multiple of every (since the Unix epoch) at or
// before now; now itself when every is below the finest interval.
func alignedStart(now time.Time, every time.Duration) time.Time {
	if every < minFastInterval {
		return now
	}
	return now.Truncate(every)
}

// stepEnded moves a guard to its monitor window, or drops it.
func (w *watcher) stepEnded(id string, g *activeGuard, succeeded bool, monitor time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	g.running, g.until = false, time.Now().Add(monitor)
	if succeeded && monitor > 0 {
		return
	}
	st := w.state(id)
	for i, x := range st.guards {
		if x == g {
			st.guards = append(st.guards[:i], st.guards[i+1:]...)
			break
		}
	}
}

// closeSamplers ends the samplers' own sessions.
func (w *watcher) closeSamplers() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, st := range w.instances {
		if st.sampler != nil {
			st.sampler.Close()
		}
		st.sampler = nil
	}
}
