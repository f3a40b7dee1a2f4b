package orchestrator

import (
	"context"
	"errors"
	"time"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/proto/agentpb"
)

// applyResult records how a step ended. A failed forward step makes the
// execution roll back what it applied (not for dry runs, which apply
// nothing); the FSM decides that, and ends the execution when it was the
// last step.
func (o *Orchestrator) applyResult(ctx context.Context, r *agentpb.StepResult) {
	e, err := o.cfg.Raft.State().Execution(r.GetExecutionId())
	if err != nil {
		return
	}
	s, ok := e.Step(r.GetStepId())
	if !ok || s.Status != domain.StepRunning || s.Attempt != int(r.GetAttempt()) {
		return // stale: an older attempt, or already recorded
	}
	cmd := o.resultCommand(e, *s, r)
	buffered, statements := o.takeEvents(e.ExecutionID)
	cmd.EventLogs, cmd.EventStatements = withResultEvents(e, buffered, r), statements
	err = o.commit(ctx, "record step result", e.ExecutionID, cmd)
	o.kick() // the execution, or its fleet, may move on now
	if err != nil {
		o.putBackEvents(e.ExecutionID, buffered, statements) // committed at the next flush
	}
	if err != nil && !errors.Is(err, fsm.ErrConflict) {
		o.forget(s.Agent, r) // sent again; the agent answers again
	}
}

// resultCommand turns an agent's report into the command that records it:
// the step's outcome and, on a Shadow rollout, what its capture or replay
// step found.
func (o *Orchestrator) resultCommand(e domain.Execution, s domain.Step, r *agentpb.StepResult) fsm.StepResultRequest {
	cmd := fsm.StepResultRequest{ExecutionID: e.ExecutionID, StepID: s.StepID, Attempt: s.Attempt, At: o.now(),
		AlreadyApplied: r.GetAlreadyApplied(), Transactional: r.GetTransactional(), Retries: int(r.GetRetries()),
		Error: agentpb.DBErrorToDomain(r.GetError())}
	for _, st := range r.GetStatements() {
		cmd.Statements = append(cmd.Statements, agentpb.StatementToDomain(st))
	}
	switch {
	case r.GetCancelled():
		cmd.Status = domain.StepCancelled
	case cmd.Error != nil:
		cmd.Status = domain.StepFailed
	case r.GetAgentError() != "":
		cmd.Status, cmd.Error = domain.StepFailed, &domain.DBError{Message: r.GetAgentError()}
	default:
		cmd.Status = domain.StepSucceeded
	}
	if e.Shadow != nil {
		o.shadowOutcome(&cmd, e, s, r)
	}
	if b := r.GetBreach(); b != nil {
		d := agentpb.BreachToDecision(b)
		d.StepID, d.DecidedBy, d.CommittedAt = s.StepID, "agent "+s.Agent, cmd.At
		cmd.Decision = &d
	}
	return cmd
}

// shadowOutcome works out, on a copy, what a Shadow rollout's step
// changes: the workload captured, the replay measured and its verdict,
// which may fail the step.
func (o *Orchestrator) shadowOutcome(cmd *fsm.StepResultRequest, e domain.Execution, s domain.Step, r *agentpb.StepResult) {
	sh := *e.Shadow
	e.Shadow = &sh
	s.Status, s.Error = cmd.Status, cmd.Error
	cmd.Notes = o.recordShadow(&e, &s, r)
	cmd.Status, cmd.Error, cmd.Replay, cmd.Shadow = s.Status, s.Error, s.Replay, e.Shadow
}

// failStep ends a running step with an error found by the control plane.
func (o *Orchestrator) failStep(ctx context.Context, execID, stepID string, attempt int, msg string) {
	res := &agentpb.StepResult{ExecutionId: execID, StepId: stepID, Attempt: int32(attempt), AgentError: msg}
	o.applyResult(ctx, res)
}

// withResultEvents adds to the buffered log lines those of the step's
// events its result carries and the log has in neither the committed state
// nor the buffer: lines streamed to a leader that died before committing
// them, or sent while no session was open. They come first: they are the
// older ones.
func withResultEvents(e domain.Execution, buffered []domain.LogEntry, r *agentpb.StepResult) []domain.LogEntry {
	if len(r.GetEvents()) == 0 {
		return buffered
	}
	seen := map[logKey]bool{}
	for _, l := range e.Logs {
		if l.StepID == r.GetStepId() {
			seen[keyOf(l)] = true
		}
	}
	for _, l := range buffered {
		seen[keyOf(l)] = true
	}
	var missing []domain.LogEntry
	for _, ev := range r.GetEvents() {
		if ev.GetExecutionId() != r.GetExecutionId() || ev.GetStepId() != r.GetStepId() {
			continue
		}
		if l := logEntryOf(ev); !seen[keyOf(l)] {
			seen[keyOf(l)] = true
			missing = append(missing, l)
		}
	}
	return append(missing, buffered...)
}

// logKey tells log lines apart: one event is one line, whichever way it
// reached the log.
type logKey struct {
	ms                              int64
	level, message, step, statement string
}

func keyOf(l domain.LogEntry) logKey {
	return logKey{l.Time.UnixMilli(), l.Level, l.Message, l.StepID, l.Statement}
}

// logEntryOf is the log line of a step event.
func logEntryOf(ev *agentpb.StepEvent) domain.LogEntry {
	return domain.LogEntry{Time: time.UnixMilli(ev.GetTimeUnixMs()).UTC(), Level: ev.GetLevel(),
		Message: ev.GetMessage(), StepID: ev.GetStepId(), Statement: ev.GetStatement()}
}

// bufferEvent keeps a step event until the next flush: events are
// committed in batches, not one Raft entry each.
func (o *Orchestrator) bufferEvent(ev *agentpb.StepEvent) {
	o.mu.Lock()
	defer o.mu.Unlock()
	id := ev.GetExecutionId()
	o.logs[id] = append(o.logs[id], logEntryOf(ev))
	if d := ev.GetDone(); d != nil {
		if o.done[id] == nil {
			o.done[id] = map[string][]domain.StatementResult{}
		}
		o.done[id][ev.GetStepId()] = append(o.done[id][ev.GetStepId()], agentpb.StatementToDomain(d))
	}
}

// takeEvents removes and returns the events buffered for one execution.
func (o *Orchestrator) takeEvents(id string) ([]domain.LogEntry, map[string][]domain.StatementResult) {
	o.mu.Lock()
	defer o.mu.Unlock()
	logs, done := o.logs[id], o.done[id]
	delete(o.logs, id)
	delete(o.done, id)
	return logs, done
}

// putBackEvents buffers again, before any that came since, events taken
// for a result that was not committed.
func (o *Orchestrator) putBackEvents(id string, logs []domain.LogEntry, done map[string][]domain.StatementResult) {
	if len(logs) == 0 && len(done) == 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.logs[id] = append(logs, o.logs[id]...)
	if len(done) > 0 && o.done[id] == nil {
		o.done[id] = map[string][]domain.StatementResult{}
	}
	for step, sts := range done {
		o.done[id][step] = append(sts, o.done[id][step]...)
	}
}

// flushEvents commits the buffered events of every execution, one entry
// per execution.
func (o *Orchestrator) flushEvents(ctx context.Context) {
	o.mu.Lock()
	logs, done := o.logs, o.done
	o.logs, o.done = map[string][]domain.LogEntry{}, map[string]map[string][]domain.StatementResult{}
	o.mu.Unlock()
	for id, entries := range logs {
		_ = o.commit(ctx, "commit step events", id, fsm.StepEventsRequest{ExecutionID: id, Logs: entries, Statements: done[id]})
	}
}
