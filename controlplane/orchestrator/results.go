package orchestrator

import (
	"context"
	"fmt"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/proto/agentpb"
)

// applyResult records how a step ended. A failed forward step makes the
// execution roll back what it applied (not for dry runs, which apply
// nothing).
func (o *Orchestrator) applyResult(ctx context.Context, r *agentpb.StepResult) {
	err := o.update(ctx, r.GetExecutionId(), func(x *domain.Execution) []domain.LogEntry {
		s, ok := x.Step(r.GetStepId())
		if !ok || s.Status != domain.StepRunning || s.Attempt != int(r.GetAttempt()) {
			return nil // stale: an older attempt, or already recorded
		}
		o.recordOutcome(s, r)
		shadowLogs := o.recordShadow(x, s, r)
		entry := o.resultLog(s, r)
		logs := append([]domain.LogEntry{entry}, shadowLogs...)
		if b := r.GetBreach(); b != nil && !x.RollbackRequested {
			logs = append(logs, o.decideRollback(x, agentpb.BreachToDecision(b), s.StepID, "agent "+s.Agent)...)
		}
		if s.Status == domain.StepSucceeded && s.Direction == domain.Forward && (s.Kind == domain.StepApply || s.Kind == domain.StepSwitch) &&
			!x.DryRun && x.Monitoring.MonitorWindowSeconds > 0 {
			x.MonitorUntil = o.now().Add(time.Duration(x.Monitoring.MonitorWindowSeconds) * time.Second)
			x.CurrentPhase = s.Phase + " (monitor window)"
			logs = append(logs, logEntry(o.now(), "info", "watching %s/%s for %ds before going on", s.Agent, s.InstanceID,
				x.Monitoring.MonitorWindowSeconds))
		}
		if s.Status != domain.StepSucceeded && s.Direction == domain.Forward {
			x.Error, x.ErrorMessage = s.Error, entry.Message
			if !x.DryRun && !x.RollbackRequested {
				x.RollbackRequested, x.RollbackReason, x.RollbackRequestedBy = true, entry.Message, "hotswap (automatic)"
			}
		}
		if o.canConclude(x) {
			logs = append(logs, o.conclude(x)...) // the last step: no need for another commit
		}
		return logs
	})
	o.kick() // the execution, or its fleet, may move on now
	if err != nil {
		o.cfg.Logger.Warn("record step result", "execution", r.GetExecutionId(), "step", r.GetStepId(), "error", err)
		if s, ok := o.stepOf(r); ok {
			o.forget(s.Agent, r) // sent again; the agent answers again
		}
	}
}

// canConclude reports whether a running execution can end with this update: no
// step left, no monitor window to wait out, no rollback to plan.
func (o *Orchestrator) canConclude(x *domain.Execution) bool {
	return x.Status == domain.ExecutionRunning && x.Fleet == nil && len(activePhase(*x)) == 0 &&
		!o.now().Before(x.MonitorUntil) && (!x.RollbackRequested || x.RollingBack)
}

func (o *Orchestrator) stepOf(r *agentpb.StepResult) (*domain.Step, bool) {
	e, err := o.cfg.Raft.State().Execution(r.GetExecutionId())
	if err != nil {
		return nil, false
	}
	return e.Step(r.GetStepId())
}

func (o *Orchestrator) recordOutcome(s *domain.Step, r *agentpb.StepResult) {
	s.CompletedAt = o.now()
	s.AlreadyApplied, s.Transactional, s.Retries = r.GetAlreadyApplied(), r.GetTransactional(), int(r.GetRetries())
	if len(r.GetStatements()) > 0 || !s.Transactional {
		s.Statements = mergeStatements(s.Statements, r.GetStatements())
	}
	s.RowsAffected = 0
	for _, st := range s.Statements {
		s.RowsAffected += st.RowsAffected
	}
	s.Error = agentpb.DBErrorToDomain(r.GetError())
	switch {
	case r.GetCancelled():
		s.Status = domain.StepCancelled
	case s.Error != nil:
		s.Status = domain.StepFailed
	case r.GetAgentError() != "":
		s.Status, s.Error = domain.StepFailed, &domain.DBError{Message: r.GetAgentError()}
	default:
		s.Status = domain.StepSucceeded
	}
}

func (o *Orchestrator) resultLog(s *domain.Step, r *agentpb.StepResult) domain.LogEntry {
	took := s.CompletedAt.Sub(s.StartedAt).Round(time.Millisecond)
	where := s.Agent + "/" + s.InstanceID
	e := domain.LogEntry{Time: o.now(), Level: "info", StepID: s.StepID}
	switch s.Status {
	case domain.StepSucceeded:
		e.Message = fmt.Sprintf("step %s (%s) succeeded on %s in %s: %d statement(s), %d lock retr(ies)",
			s.StepID, s.Direction, where, took, len(s.Statements), s.Retries)
		if s.AlreadyApplied {
			e.Message = fmt.Sprintf("step %s (%s) was already applied on %s (found in its history table); not run again",
				s.StepID, s.Direction, where)
		}
	case domain.StepCancelled:
		e.Level, e.Message = "warn", fmt.Sprintf("step %s (%s) cancelled on %s after %s", s.StepID, s.Direction, where, took)
	default:
		e.Level = "error"
		e.Message = fmt.Sprintf("step %s (%s) failed on %s: %s", s.StepID, s.Direction, where, describe(s.Error))
		if s.Error != nil {
			e.Statement = s.Error.Statement
		}
	}
	return e
}

func describe(e *domain.DBError) string {
	if e == nil {
		return "unknown error"
	}
	if e.SQLState != "" {
		return fmt.Sprintf("%s (SQLSTATE %s)", e.Message, e.SQLState)
	}
	return e.Message
}

// mergeStatements adds reported statements, replacing any with the same index.
func mergeStatements(cur []domain.StatementResult, add []*agentpb.StatementResult) []domain.StatementResult {
	for _, a := range add {
		d := agentpb.StatementToDomain(a)
		replaced := false
		for i := range cur {
			if cur[i].Index == d.Index {
				cur[i], replaced = d, true
			}
		}
		if !replaced {
			cur = append(cur, d)
		}
	}
	return cur
}

// bufferEvent keeps a step event until the next flush: events are
// committed in batches, not one Raft entry each.
func (o *Orchestrator) bufferEvent(ev *agentpb.StepEvent) {
	o.mu.Lock()
	defer o.mu.Unlock()
	id := ev.GetExecutionId()
	o.logs[id] = append(o.logs[id], domain.LogEntry{Time: time.UnixMilli(ev.GetTimeUnixMs()).UTC(), Level: ev.GetLevel(),
		Message: ev.GetMessage(), StepID: ev.GetStepId(), Statement: ev.GetStatement()})
	if d := ev.GetDone(); d != nil {
		o.done[id+"|"+ev.GetStepId()] = append(o.done[id+"|"+ev.GetStepId()], agentpb.StatementToDomain(d))
	}
}

// flushEvents commits the buffered events of every execution.
func (o *Orchestrator) flushEvents(ctx context.Context) {
	o.mu.Lock()
	logs, done := o.logs, o.done
	o.logs, o.done = map[string][]domain.LogEntry{}, map[string][]domain.StatementResult{}
	o.mu.Unlock()
	for id, entries := range logs {
		err := o.update(ctx, id, func(x *domain.Execution) []domain.LogEntry {
			for i := range x.Steps {
				s := &x.Steps[i]
				for _, st := range done[id+"|"+s.StepID] {
					s.Statements = mergeStatements(s.Statements, []*agentpb.StatementResult{agentpb.StatementFromDomain(st)})
				}
			}
			return entries
		})
		if err != nil {
			o.cfg.Logger.Warn("commit step events", "execution", id, "error", err)
		}
	}
}
