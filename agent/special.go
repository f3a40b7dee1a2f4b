package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/postgres"
	"github.com/hotswap-db/hotswap/internal/pooler/pgbouncer"
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

// pool is the instance's connection pool (PostgreSQL only).
func (a *Agent) pool(ctx context.Context, id string) (*postgres.Conn, error) {
	in, ok := a.instance(id)
	if !ok {
		return nil, fmt.Errorf("this agent has no instance %q", id)
	}
	conn, err := a.conn(ctx, in)
	if err != nil {
		return nil, err
	}
	pg, ok := conn.(*postgres.Conn)
	if !ok {
		return nil, fmt.Errorf("engine %s cannot capture or replay workloads yet", in.Engine)
	}
	return pg, nil
}

func (a *Agent) capture(ctx context.Context, m *agentpb.ExecuteStep) ([]string, error) {
	in, _ := a.instance(m.GetInstanceId())
	if in.StatementLog != "" {
		w, err := replay.CaptureLog(in.StatementLog, time.Now().Add(-time.Hour), captureLimit)
		if err == nil && len(w.Statements) > 0 {
			a.event(m, "info", fmt.Sprintf("captured %d read statement(s) from the statement log", len(w.Statements)))
			return w.Statements, nil
		}
	}
	pg, err := a.pool(ctx, m.GetInstanceId())
	if err != nil {
		return nil, err
	}
	w, err := replay.Capture(ctx, pg.Pool(), captureLimit)
	if err != nil {
		return nil, fmt.Errorf("capture workload: %w", err)
	}
	a.event(m, "info", fmt.Sprintf("captured %d read statement(s) from pg_stat_statements (%d skipped)", len(w.Statements), w.Skipped))
	return w.Statements, nil
}

func (a *Agent) replay(ctx context.Context, m *agentpb.ExecuteStep) (*agentpb.ReplayResult, error) {
	pg, err := a.pool(ctx, m.GetInstanceId())
	if err != nil {
		return nil, err
	}
	r, err := replay.Run(ctx, pg.Pool(), replay.Workload{Statements: m.GetWorkload()},
		replay.Options{Iterations: int(m.GetReplayIterations()), Concurrency: 2, Timeout: 30 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("replay workload: %w", err)
	}
	out := &agentpb.ReplayResult{Runs: int32(r.Runs), Errors: int32(r.Errors), P50Ms: r.P50Ms, P95Ms: r.P95Ms,
		P99Ms: r.P99Ms, MeanMs: r.MeanMs}
	if len(r.Failures) > 0 {
		out.FirstError = a.scrub(r.Failures[0].Error)
	}
	a.event(m, "info", fmt.Sprintf("replayed %d statement(s) %d time(s): p50 %.2f ms, p95 %.2f ms, %d error(s)",
		len(m.GetWorkload()), m.GetReplayIterations(), r.P50Ms, r.P95Ms, r.Errors))
	return out, nil
}

func (a *Agent) switchPooler(ctx context.Context, m *agentpb.ExecuteStep) error {
	pc, ok := a.pooler(m.GetPoolerId())
	if !ok {
		return fmt.Errorf("this agent manages no pooler %q", m.GetPoolerId())
	}
	to, ok := pc.Targets[m.GetSwitchTo()]
	if !ok {
		return fmt.Errorf("pooler %s has no target %q in the agent's config", pc.ID, m.GetSwitchTo())
	}
	mgr := pgbouncer.New(pgbouncer.Config{AdminDSN: pc.AdminDSN, ConfigFile: pc.ConfigFile, Database: pc.Database})
	return mgr.Switch(ctx, pgbouncer.Target{Host: to.Host, Port: to.Port, DBName: to.DBName},
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
