package agent

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/pooler"
	"github.com/hotswap-db/hotswap/internal/replay"
	"github.com/hotswap-db/hotswap/proto/agentpb"
)

// Step kinds that run no migration script.
const (
	kindCapture = "capture"
	kindReplay  = "replay"
	kindSwitch  = "switch"
)

// isSpecial reports whether a step is one of the kinds runSpecial runs.
func isSpecial(kind string) bool {
	return kind == kindCapture || kind == kindReplay || kind == kindSwitch
}

// captureLimit is how many distinct read statements a capture keeps.
const captureLimit = 200

// runSpecial runs a capture, replay or switch step and fills its result.
func (a *Agent) runSpecial(ctx context.Context, m *agentpb.ExecuteStep) *agentpb.StepResult {
	res := &agentpb.StepResult{}
	var err error
	switch m.GetKind() {
	case kindCapture:
		res.Workload, err = a.capture(ctx, m)
	case kindReplay:
		res.Replay, err = a.replay(ctx, m)
	case kindSwitch:
		err = a.switchPooler(ctx, m)
	}
	if err != nil {
		res.AgentError = a.scrub(err.Error())
	}
	return res
}

// capability returns the instance's connection as a C, the optional
// capability a step needs, or an error saying that its engine lacks it.
func capability[C any](ctx context.Context, a *Agent, id, what string) (C, error) {
	var none C
	in, ok := a.instance(id)
	if !ok {
		return none, fmt.Errorf("this agent has no instance %q", id)
	}
	conn, err := a.conn(ctx, in)
	if err != nil {
		return none, err
	}
	c, ok := conn.(C)
	if !ok {
		return none, fmt.Errorf("engine %s cannot %s yet", in.Engine, what)
	}
	return c, nil
}

func (a *Agent) capture(ctx context.Context, m *agentpb.ExecuteStep) ([]string, error) {
	c, err := capability[dialect.WorkloadCapturer](ctx, a, m.GetInstanceId(), "capture workloads")
	if err != nil {
		return nil, err
	}
	in, _ := a.instance(m.GetInstanceId())
	w, err := c.CaptureWorkload(ctx, dialect.CaptureRequest{Limit: captureLimit, StatementLog: in.StatementLog,
		Since: time.Now().Add(-time.Hour)})
	if err != nil {
		return nil, fmt.Errorf("capture workload: %w", err)
	}
	cover := "the source counts no calls"
	share, counted := w.Share()
	if counted {
		cover = fmt.Sprintf("covering %.0f%% of the instance's calls", share*100)
	}
	a.event(m, "info", fmt.Sprintf("captured %d read statement(s) from %s, %s (%d with parameter values sampled from their table; %d skipped)",
		len(w.Statements), w.Source, cover, w.Sampled, w.Skipped))
	if min := m.GetMinWorkloadShare(); counted && share < min {
		return nil, fmt.Errorf("the captured statements cover %.0f%% of the instance's calls, below the minimum %.0f%% (shadow.minWorkloadShare): "+
			"the replay would not represent the workload; give a workload file or enable the statement log", share*100, min*100)
	}
	return w.Statements, nil
}

func (a *Agent) replay(ctx context.Context, m *agentpb.ExecuteStep) (*agentpb.ReplayResult, error) {
	r, err := capability[dialect.WorkloadReplayer](ctx, a, m.GetInstanceId(), "replay workloads")
	if err != nil {
		return nil, err
	}
	res, err := r.ReplayWorkload(ctx, replay.Workload{Statements: m.GetWorkload()},
		replay.Options{Iterations: int(m.GetReplayIterations()), Concurrency: 2, Timeout: 30 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("replay workload: %w", err)
	}
	out := &agentpb.ReplayResult{Runs: int32(res.Runs), Errors: int32(res.Errors), P50Ms: res.P50Ms, P95Ms: res.P95Ms,
		P99Ms: res.P99Ms, MeanMs: res.MeanMs}
	if len(res.Failures) > 0 {
		out.FirstError = a.scrub(res.Failures[0].Error)
	}
	a.event(m, "info", fmt.Sprintf("replayed %d statement(s) %d time(s): p50 %.2f ms, p95 %.2f ms, %d error(s)",
		len(m.GetWorkload()), m.GetReplayIterations(), res.P50Ms, res.P95Ms, res.Errors))
	return out, nil
}

// switchPooler points the pooler's entry at the target the step names,
// with the Switcher registered for the pooler's kind.
func (a *Agent) switchPooler(ctx context.Context, m *agentpb.ExecuteStep) error {
	pc, ok := a.pooler(m.GetPoolerId())
	if !ok {
		return fmt.Errorf("this agent manages no pooler %q", m.GetPoolerId())
	}
	to, ok := pc.Targets[m.GetSwitchTo()]
	if !ok {
		return fmt.Errorf("pooler %s has no target %q in the agent's config (targets are named by the instance id of the database registration)", pc.ID, m.GetSwitchTo())
	}
	sw, err := pooler.Open(pc.Kind, pooler.Config{AdminDSN: pc.AdminDSN, ConfigFile: pc.ConfigFile, Database: pc.Database})
	if err != nil {
		return err
	}
	return sw.Switch(ctx, pooler.Target{Host: to.Host, Port: to.Port, DBName: to.DBName},
		func(level, msg string) { a.event(m, level, msg) })
}

func (a *Agent) event(m *agentpb.ExecuteStep, level, msg string) {
	a.sendEvent(m, dialect.StepEvent{Time: time.Now(), Level: level, Message: msg})
}

func (a *Agent) pooler(id string) (agentconfig.PoolerConfig, bool) {
	for _, p := range a.cfg.Poolers {
		if p.ID == id {
			return p, true
		}
	}
	return agentconfig.PoolerConfig{}, false
}

// poolerIDs lists the poolers of the agent's config, for its report.
// poolerTargets names, per pooler, the instance ids of its targets.
func (a *Agent) poolerTargets() []*agentpb.PoolerTargets {
	out := make([]*agentpb.PoolerTargets, 0, len(a.cfg.Poolers))
	for _, p := range a.cfg.Poolers {
		ids := slices.Sorted(maps.Keys(p.Targets))
		out = append(out, &agentpb.PoolerTargets{PoolerId: p.ID, InstanceIds: ids})
	}
	return out
}

func (a *Agent) poolerIDs() []string {
	ids := make([]string, 0, len(a.cfg.Poolers))
	for _, p := range a.cfg.Poolers {
		ids = append(ids, p.ID)
	}
	return ids
}
