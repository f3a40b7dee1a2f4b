package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/guard"
	"github.com/hotswap-db/hotswap/proto/agentpb"
)

// maxFinished bounds the results kept to answer a re-delivered step.
const maxFinished = 512

// maxResultEvents bounds the events a step's result carries: the latest
// are kept.
const maxResultEvents = 200

// steps runs the steps the control plane sends. A step keeps running when
// the session drops; its result goes out on whichever session is open when
// it ends, and again whenever the step is delivered again.
type steps struct {
	mu       sync.Mutex
	running  map[string]context.CancelFunc
	finished map[string]*agentpb.StepResult
	breach   map[string]*agentpb.GuardBreach // why a step was cancelled by its guard
	order    []string
	tokens   map[string]uint64 // highest fencing token seen per instance
	// doneTokens is the fencing token each finished step ran under: a
	// delivery under a newer one (a retried rollback) runs the step again.
	doneTokens map[string]uint64
	// events are the events of each running step, sent again with its
	// result: the leader they were streamed to may die before committing
	// them.
	events map[string][]*agentpb.StepEvent
}

func newSteps() *steps {
	return &steps{running: map[string]context.CancelFunc{}, finished: map[string]*agentpb.StepResult{},
		breach: map[string]*agentpb.GuardBreach{}, tokens: map[string]uint64{}, doneTokens: map[string]uint64{},
		events: map[string][]*agentpb.StepEvent{}}
}

// keepEvent remembers an event of a running step for its result.
func (st *steps) keepEvent(key string, ev *agentpb.StepEvent) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.running[key]; !ok {
		return // the step has ended: its result is sent already
	}
	list := append(st.events[key], ev)
	if len(list) > maxResultEvents {
		list = list[len(list)-maxResultEvents:]
	}
	st.events[key] = list
}

func stepID(execID, stepID string) string { return execID + "|" + stepID }

// handleExecute starts a step unless it is running already; a step that
// finished is answered from memory.
func (a *Agent) handleExecute(m *agentpb.ExecuteStep) {
	key := stepID(m.GetExecutionId(), m.GetStepId())
	st := a.steps
	st.mu.Lock()
	if _, busy := st.running[key]; busy {
		st.mu.Unlock()
		return
	}
	if res, ok := st.finished[key]; ok && m.GetFencingToken() > st.doneTokens[key] {
		delete(st.finished, key) // retried under a newer token: run it again
	} else if ok {
		st.mu.Unlock()
		again := proto.Clone(res).(*agentpb.StepResult)
		again.Attempt = m.GetAttempt()
		a.send(&agentpb.AgentMessage{Body: &agentpb.AgentMessage_StepResult{StepResult: again}})
		return
	}
	if seen := st.tokens[m.GetInstanceId()]; m.GetFencingToken() < seen {
		st.mu.Unlock()
		a.finishStep(key, m, &agentpb.StepResult{AgentError: fmt.Sprintf(
			"stale fencing token %d: this agent already ran token %d on %s", m.GetFencingToken(), seen, m.GetInstanceId())})
		return
	}
	st.tokens[m.GetInstanceId()] = m.GetFencingToken()
	ctx, cancel := context.WithCancel(context.Background())
	st.running[key] = cancel
	st.mu.Unlock()
	g := a.guardStep(m, cancel)
	go a.runStep(ctx, key, m, g)
}

// guardStep starts watching the step's instance against the step's guard:
// a breach while the step runs records itself and cancels the step.
func (a *Agent) guardStep(m *agentpb.ExecuteStep, cancel context.CancelFunc) *activeGuard {
	if m.GetGuard() == nil {
		return nil
	}
	th, base := agentpb.GuardToDomain(m.GetGuard())
	g := &activeGuard{execID: m.GetExecutionId(), stepID: m.GetStepId(), eval: guard.NewRollback(th, base), running: true}
	g.onBreach = func(d domain.Decision) {
		a.log.Warn("guard breach: cancelling the step", "execution", g.execID, "step", g.stepID, "reason", d.Reason())
		a.steps.mu.Lock()
		a.steps.breach[stepID(g.execID, g.stepID)] = agentpb.BreachFromDecision(g.execID, g.stepID, d)
		a.steps.mu.Unlock()
		cancel()
	}
	a.watch.watchStep(m.GetInstanceId(), g, time.Duration(m.GetGuard().GetSampleIntervalMs())*time.Millisecond)
	a.reportGuardState(m, g)
	return g
}

// handleCancel cancels a running step; its statement is cancelled in the database.
func (a *Agent) handleCancel(m *agentpb.CancelStep) {
	key := stepID(m.GetExecutionId(), m.GetStepId())
	a.steps.mu.Lock()
	cancel, ok := a.steps.running[key]
	res, done := a.steps.finished[key]
	a.steps.mu.Unlock()
	switch {
	case ok:
		a.log.Warn("cancelling step", "execution", m.GetExecutionId(), "step", m.GetStepId(), "reason", m.GetReason())
		cancel()
	case done:
		// Too late to cancel: the control plane may have missed how it
		// ended, so say it again.
		a.send(&agentpb.AgentMessage{Body: &agentpb.AgentMessage_StepResult{StepResult: proto.Clone(res).(*agentpb.StepResult)}})
	}
}

func (a *Agent) runStep(ctx context.Context, key string, m *agentpb.ExecuteStep, g *activeGuard) {
	a.log.Info("running step", "execution", m.GetExecutionId(), "step", m.GetStepId(), "instance", m.GetInstanceId(),
		"kind", m.GetKind(), "direction", m.GetDirection(), "dry_run", m.GetDryRun())
	defer a.timeStep(m.GetKind(), time.Now(), key)
	ctx, span := a.startStepSpan(ctx, m)
	defer func() { endStepSpan(span, a.finishedResult(key)) }()
	if isSpecial(m.GetKind()) {
		a.finishStep(key, m, a.runSpecial(ctx, m))
		return
	}
	res := &agentpb.StepResult{}
	out, err := a.execute(ctx, m)
	switch {
	case errors.Is(err, context.Canceled):
		res.Cancelled = true
	case err != nil:
		res.AgentError = a.scrub(err.Error())
	}
	res.AlreadyApplied, res.Transactional, res.Retries = out.AlreadyApplied, out.Transactional, int32(out.Retries)
	res.Error = agentpb.DBErrorFromDomain(scrubDBError(a, out.Error))
	for _, s := range out.Statements {
		res.Statements = append(res.Statements, agentpb.StatementFromDomain(s))
	}
	a.steps.mu.Lock()
	res.Breach = a.steps.breach[key]
	delete(a.steps.breach, key)
	a.steps.mu.Unlock()
	if g != nil {
		ok := err == nil && out.Error == nil && res.Breach == nil
		a.watch.stepEnded(m.GetInstanceId(), g, ok, time.Duration(m.GetMonitorMs())*time.Millisecond)
	}
	a.finishStep(key, m, res)
}

// timeStep records the duration of a step that started at started, with
// the outcome of the result it left.
func (a *Agent) timeStep(kind string, started time.Time, key string) {
	res := a.finishedResult(key)
	outcome := "ok"
	switch {
	case res.GetCancelled():
		outcome = "cancelled"
	case res.GetError() != nil || res.GetAgentError() != "" || res.GetBreach() != nil:
		outcome = "error"
	}
	a.metrics.observeStep(kind, outcome, time.Since(started))
}

// finishedResult is the result a finished step left (nil if none).
func (a *Agent) finishedResult(key string) *agentpb.StepResult {
	a.steps.mu.Lock()
	defer a.steps.mu.Unlock()
	return a.steps.finished[key]
}

func scrubDBError(a *Agent, e *domain.DBError) *domain.DBError {
	if e == nil {
		return nil
	}
	return &domain.DBError{Message: a.scrub(e.Message), SQLState: e.SQLState, Statement: e.Statement,
		Detail: a.scrub(e.Detail), Hint: a.scrub(e.Hint)}
}

// execute runs the step on its instance's executor; a verify step waits on
// a standby for the step it verifies to arrive, and runs nothing.
func (a *Agent) execute(ctx context.Context, m *agentpb.ExecuteStep) (dialect.StepOutcome, error) {
	in, ok := a.instance(m.GetInstanceId())
	if !ok {
		return dialect.StepOutcome{}, fmt.Errorf("this agent has no instance %q", m.GetInstanceId())
	}
	conn, err := a.conn(ctx, in)
	if err != nil {
		return dialect.StepOutcome{}, err
	}
	if m.GetKind() == "verify" {
		req := dialect.VerifyRequest{ExecutionID: m.GetExecutionId(), StepID: m.GetVerifiesStepId(),
			Deadline: time.UnixMilli(m.GetDeadlineUnixMs()), MaxLagSeconds: m.GetMaxLagSeconds()}
		return conn.VerifyStep(ctx, req, a.onEvent(ctx, m))
	}
	req := dialect.StepRequest{ExecutionID: m.GetExecutionId(), StepID: m.GetStepId(), MigrationID: m.GetMigrationId(),
		MigrationName: m.GetMigrationName(), Direction: domain.Direction(m.GetDirection()), Script: m.GetScript(),
		Checksum: m.GetChecksum(), FencingToken: m.GetFencingToken(), AppliedBy: m.GetAppliedBy(),
		LockTimeout: time.Duration(m.GetLockTimeoutMs()) * time.Millisecond, StatementTimeout: time.Duration(m.GetStatementTimeoutMs()) * time.Millisecond,
		Deadline: time.UnixMilli(m.GetDeadlineUnixMs()), DryRun: m.GetDryRun(), Local: m.GetLocalOnly(),
		LockPolicy: domain.LockPolicy{NeverFree: domain.NeverFreePolicy(m.GetNeverFree()),
			TerminateBlockersAfterMs: m.GetTerminateBlockersAfterMs(), TerminatePrivileged: m.GetTerminatePrivileged()}}
	if m.GetRevertsStepId() != "" {
		req.Reverts = &dialect.RevertedStep{StepID: m.GetRevertsStepId(), Script: m.GetForwardScript()}
	}
	return conn.ExecuteStep(ctx, req, a.onEvent(ctx, m))
}

// onEvent is what a step's events go to: the control plane and the
// step's trace.
func (a *Agent) onEvent(ctx context.Context, m *agentpb.ExecuteStep) func(dialect.StepEvent) {
	return func(ev dialect.StepEvent) {
		a.traceEvent(ctx, ev)
		a.sendEvent(m, ev)
	}
}

func (a *Agent) sendEvent(m *agentpb.ExecuteStep, ev dialect.StepEvent) {
	pe := &agentpb.StepEvent{ExecutionId: m.GetExecutionId(), StepId: m.GetStepId(), TimeUnixMs: ev.Time.UnixMilli(),
		Level: ev.Level, Message: a.scrub(ev.Message), Statement: ev.Statement}
	if ev.Done != nil {
		pe.Done = agentpb.StatementFromDomain(*ev.Done)
	}
	a.steps.keepEvent(stepID(m.GetExecutionId(), m.GetStepId()), pe)
	a.send(&agentpb.AgentMessage{Body: &agentpb.AgentMessage_StepEvent{StepEvent: pe}})
}

// finishStep remembers a step's result and reports it.
func (a *Agent) finishStep(key string, m *agentpb.ExecuteStep, res *agentpb.StepResult) {
	res.ExecutionId, res.StepId, res.Attempt = m.GetExecutionId(), m.GetStepId(), m.GetAttempt()
	st := a.steps
	st.mu.Lock()
	if res.Events == nil {
		res.Events = st.events[key]
	}
	delete(st.events, key)
	delete(st.running, key)
	st.finished[key], st.doneTokens[key] = res, m.GetFencingToken()
	st.order = append(st.order, key)
	if len(st.order) > maxFinished {
		delete(st.finished, st.order[0])
		delete(st.doneTokens, st.order[0])
		st.order = st.order[1:]
	}
	st.mu.Unlock()
	a.log.Info("step finished", "execution", m.GetExecutionId(), "step", m.GetStepId(),
		"already_applied", res.GetAlreadyApplied(), "cancelled", res.GetCancelled(),
		"db_error", res.GetError().GetMessage(), "agent_error", res.GetAgentError())
	a.send(&agentpb.AgentMessage{Body: &agentpb.AgentMessage_StepResult{StepResult: res}})
}

// handleHistory answers a history request from the instance's table.
func (a *Agent) handleHistory(ctx context.Context, m *agentpb.HistoryRequest) {
	resp := &agentpb.HistoryResponse{RequestId: m.GetRequestId()}
	rows, err := a.history(ctx, m.GetInstanceId())
	if err != nil {
		resp.Error = a.scrub(err.Error())
	}
	for _, r := range rows {
		resp.Rows = append(resp.Rows, agentpb.HistoryFromDomain(r))
	}
	if m.GetSchemaDrift() && err == nil {
		a.schemaDrift(ctx, m.GetInstanceId(), resp)
	}
	a.send(&agentpb.AgentMessage{Body: &agentpb.AgentMessage_History{History: resp}})
}

// schemaDrift adds to resp what changed out of band in the instance's
// schema, when its engine can tell.
func (a *Agent) schemaDrift(ctx context.Context, instance string, resp *agentpb.HistoryResponse) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	in, _ := a.instance(instance)
	conn, err := a.conn(ctx, in)
	if err != nil {
		resp.SchemaDriftError = a.scrub(err.Error())
		return
	}
	d, ok := conn.(dialect.SchemaDrifter)
	if !ok {
		return // the engine does not fingerprint its schema: only the history rows compare
	}
	items, err := d.SchemaDrift(ctx)
	if err != nil {
		resp.SchemaDriftError = a.scrub(err.Error())
	}
	for _, it := range items {
		it.Message, it.Object = a.scrub(it.Message), a.scrub(it.Object)
		resp.SchemaDrift = append(resp.SchemaDrift, agentpb.SchemaDriftFromDomain(it))
	}
}

func (a *Agent) history(ctx context.Context, instance string) ([]domain.HistoryRow, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	in, ok := a.instance(instance)
	if !ok {
		return nil, fmt.Errorf("this agent has no instance %q", instance)
	}
	conn, err := a.conn(ctx, in)
	if err != nil {
		return nil, err
	}
	return conn.History(ctx)
}

func (a *Agent) instance(id string) (agentconfig.InstanceConfig, bool) {
	for _, in := range a.cfg.Instances {
		if in.ID == id {
			return in, true
		}
	}
	return agentconfig.InstanceConfig{}, false
}
