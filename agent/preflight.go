package agent

import (
	"context"
	"sync"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// preflights holds each instance's latest preflight, run when a session
// with the control plane starts (at start and on every reconnect) and
// attached to every status the agent reports until the next one.
type preflights struct {
	mu     sync.Mutex
	byID   map[string]*domain.Preflight
	logged map[string]string // the summary last logged, so a warning is logged once
}

func newPreflights() *preflights {
	return &preflights{byID: map[string]*domain.Preflight{}, logged: map[string]string{}}
}

// get returns the instance's preflight, nil when none ran since the reset.
func (p *preflights) get(id string) *domain.Preflight {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.byID[id]
}

// set keeps a preflight and reports whether its summary differs from the
// one last logged for the instance.
func (p *preflights) set(id string, pf *domain.Preflight) (changed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.byID[id] = pf
	if p.logged[id] == pf.Summary() {
		return false
	}
	p.logged[id] = pf.Summary()
	return true
}

// reset forgets the preflights, so the next probes run them again.
func (p *preflights) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.byID)
}

// preflightAll runs every instance's preflight anew, concurrently.
func (a *Agent) preflightAll(ctx context.Context) {
	a.pre.reset()
	var wg sync.WaitGroup
	for _, in := range a.cfg.Instances {
		wg.Go(func() { a.preflight(ctx, in) })
	}
	wg.Wait()
}

// preflight runs one instance's preflight, when its engine can, keeps it
// and logs its failures once (again only when they change). An instance
// that cannot be asked now is asked at its next successful probe.
func (a *Agent) preflight(ctx context.Context, in agentconfig.InstanceConfig) *domain.Preflight {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.ProbeTimeout)
	defer cancel()
	conn, err := a.conn(ctx, in)
	if err != nil {
		return nil
	}
	if hp, ok := conn.(dialect.HistoryPreparer); ok && in.PreparesHistory() {
		a.prepareHistory(ctx, in, hp)
	}
	pre, ok := conn.(dialect.Preflighter)
	if !ok {
		return nil
	}
	got, err := pre.Preflight(ctx)
	if err != nil {
		a.log.Debug("preflight failed", "instance", in.ID, "error", a.scrub(err.Error()))
		return nil
	}
	for i := range got.Checks {
		got.Checks[i].Detail = a.scrub(got.Checks[i].Detail)
	}
	if !a.pre.set(in.ID, &got) {
		return &got
	}
	failures := got.Failures()
	if len(failures) == 0 {
		a.log.Info("preflight passed", "instance", in.ID)
	}
	for _, c := range failures {
		a.log.Warn("preflight: a guard cannot work as configured", "instance", in.ID, "check", c.Name,
			"detail", c.Detail, "fix", c.Fix)
	}
	return &got
}

// prepareHistory creates the instance's bookkeeping before its first step
// needs it. A role that may not is not an error here: the preflight that
// follows reports it, with the fix.
func (a *Agent) prepareHistory(ctx context.Context, in agentconfig.InstanceConfig, hp dialect.HistoryPreparer) {
	created, err := hp.PrepareHistory(ctx)
	switch {
	case err != nil:
		a.log.Debug("history tables not prepared", "instance", in.ID, "error", a.scrub(err.Error()))
	case created:
		a.log.Info("created the history tables (schema hotswap) ahead of the first step", "instance", in.ID)
	}
}
