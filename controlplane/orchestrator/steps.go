package orchestrator

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/controlplane/planner"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/proto/agentpb"
)

// stepKey names one attempt of one step for one agent.
func stepKey(agent, execID, stepID string, attempt int) string {
	return fmt.Sprintf("%s|%s|%s|%d", agent, execID, stepID, attempt)
}

func agentOfKey(k string) string { a, _, _ := strings.Cut(k, "|"); return a }

// markRunning starts the next attempt of pending steps of one phase.
func (o *Orchestrator) markRunning(ctx context.Context, e domain.Execution, stepIDs []string) {
	err := o.update(ctx, e.ExecutionID, func(x *domain.Execution) []domain.LogEntry {
		if x.Status != domain.ExecutionRunning {
			return nil // paused or finished meanwhile
		}
		var logs []domain.LogEntry
		for _, id := range stepIDs {
			s, ok := x.Step(id)
			if !ok || s.Status != domain.StepPending {
				continue
			}
			s.Status, s.Attempt, s.StartedAt = domain.StepRunning, s.Attempt+1, o.now()
			x.CurrentPhase = s.Phase
			if s.Baseline == nil && !x.DryRun && (s.Kind == domain.StepApply || s.Kind == domain.StepSwitch) {
				b := o.baseline(x, s)
				s.Baseline = &b
			}
			logs = append(logs, domain.LogEntry{Time: o.now(), Level: "info", StepID: s.StepID,
				Message: fmt.Sprintf("step %s (%s %s) starting on %s/%s", s.StepID, s.Kind, s.Direction, s.Agent, s.InstanceID)})
		}
		return logs
	})
	if err != nil {
		o.cfg.Logger.Warn("start steps", "execution", e.ExecutionID, "steps", stepIDs, "error", err)
	}
}

// dispatch hands a running step to its agent, once per attempt and
// leadership (or agent session).
func (o *Orchestrator) dispatch(ctx context.Context, e domain.Execution, s domain.Step) {
	key := stepKey(s.Agent, e.ExecutionID, s.StepID, s.Attempt)
	o.mu.Lock()
	sent := o.dispatched[key]
	o.mu.Unlock()
	if sent {
		return
	}
	msg, err := o.executeMessage(e, s)
	if err != nil {
		o.failStep(ctx, e.ExecutionID, s.StepID, s.Attempt, err.Error())
		return
	}
	if err := o.cfg.Dispatcher.Send(s.Agent, msg); err != nil {
		o.cfg.Logger.Debug("step waits for its agent", "execution", e.ExecutionID, "step", s.StepID, "error", err)
		return
	}
	o.mu.Lock()
	o.dispatched[key] = true
	o.mu.Unlock()
}

func (o *Orchestrator) executeMessage(e domain.Execution, s domain.Step) (*agentpb.ServerMessage, error) {
	m, err := o.cfg.Raft.State().Migration(e.MigrationID)
	if err != nil {
		return nil, err
	}
	g, monitorMs := guardFor(e, s)
	return &agentpb.ServerMessage{Body: &agentpb.ServerMessage_Execute{Execute: &agentpb.ExecuteStep{
		Guard: g, MonitorMs: monitorMs, Kind: s.Kind, VerifiesStepId: s.Verifies, PoolerId: s.Pooler, SwitchTo: s.SwitchTo,
		Workload: shadowWorkload(e, s), ReplayIterations: shadowIterations(e),
		MaxLagSeconds: e.Monitoring.Thresholds.WithDefaults().ReplicationLagSeconds,
		ExecutionId:   e.ExecutionID, StepId: s.StepID, MigrationId: m.MigrationID, MigrationName: m.Name,
		Direction: string(s.Direction), InstanceId: s.InstanceID, Script: m.Script(s.Direction), Checksum: m.Checksum(s.Direction),
		FencingToken: e.FencingToken, AppliedBy: e.InitiatedBy, LockTimeoutMs: e.LockTimeoutMs,
		StatementTimeoutMs: e.StatementTimeoutMs, DeadlineUnixMs: stepDeadline(e, s).UnixMilli(), DryRun: e.DryRun,
		Attempt: int32(s.Attempt),
	}}}, nil
}

// stepDeadline is when a step gives up: the execution's deadline going
// forward; a rollback gets the execution's timeout again from when it began,
// so a rollback decided by the timeout itself is not born expired.
func stepDeadline(e domain.Execution, s domain.Step) time.Time {
	if s.Direction == domain.Rollback && !e.RollbackStartedAt.IsZero() {
		return e.RollbackStartedAt.Add(time.Duration(e.TimeoutSeconds) * time.Second)
	}
	return e.Deadline()
}

// cancelRunning asks the agents to stop the running steps, once each.
func (o *Orchestrator) cancelRunning(e domain.Execution, reason string) {
	for _, s := range runningSteps(e) {
		o.cancelStep(e, s, reason)
	}
}

func (o *Orchestrator) cancelStep(e domain.Execution, s *domain.Step, reason string) {
	key := stepKey(s.Agent, e.ExecutionID, s.StepID, s.Attempt)
	o.mu.Lock()
	already := o.cancelled[key]
	o.mu.Unlock()
	if already {
		return
	}
	err := o.cfg.Dispatcher.Send(s.Agent, &agentpb.ServerMessage{Body: &agentpb.ServerMessage_Cancel{
		Cancel: &agentpb.CancelStep{ExecutionId: e.ExecutionID, StepId: s.StepID, Reason: reason}}})
	if err != nil {
		o.cfg.Logger.Debug("cancel waits for the agent", "execution", e.ExecutionID, "step", s.StepID, "error", err)
		return // tried again next tick, and when the agent reconnects
	}
	o.mu.Lock()
	o.cancelled[key] = true
	o.mu.Unlock()
}

// beginRollback stops the forward run and plans the rollback of what it
// applied. A forward step still running is cancelled first; the rollback
// is planned once its agent reports how it ended.
func (o *Orchestrator) beginRollback(ctx context.Context, e domain.Execution, reason string) {
	if running := runningSteps(e); len(running) > 0 {
		if !e.RollbackRequested {
			o.recordRollbackReason(ctx, e.ExecutionID, reason)
		}
		// Dispatch as well: an agent that lost the step's result (a leader
		// change) answers a re-delivery with it; one still running it
		// ignores the duplicate and obeys the cancel.
		for _, s := range running {
			if o.abandoned(e, s) {
				o.failStep(ctx, e.ExecutionID, s.StepID, s.Attempt, "no result from agent "+s.Agent+" by the step's deadline")
				continue
			}
			o.dispatch(ctx, e, *s)
		}
		o.cancelRunning(e, "rollback: "+reason)
		return
	}
	err := o.update(ctx, e.ExecutionID, func(x *domain.Execution) []domain.LogEntry {
		if x.RollingBack {
			return nil
		}
		for i := range x.Steps {
			if x.Steps[i].Status == domain.StepPending {
				x.Steps[i].Status = domain.StepCancelled
			}
		}
		rb := planner.Rollback(x.Steps)
		x.Steps = append(x.Steps, rb...)
		x.RollingBack, x.RollbackRequested, x.CurrentPhase = true, true, "rollback"
		x.MonitorUntil, x.RollbackStartedAt = time.Time{}, o.now()
		if x.RollbackReason == "" {
			x.RollbackReason = reason
		}
		return []domain.LogEntry{logEntry(o.now(), "warn", "rolling back %d applied step(s): %s", len(rb), reason)}
	})
	if err != nil {
		o.cfg.Logger.Warn("begin rollback", "execution", e.ExecutionID, "error", err)
	}
}

// recordRollbackReason commits why the orchestrator itself decided to roll
// back (a timeout), before the running step is cancelled.
func (o *Orchestrator) recordRollbackReason(ctx context.Context, id, reason string) {
	err := o.update(ctx, id, func(x *domain.Execution) []domain.LogEntry {
		if x.RollbackRequested {
			return nil
		}
		x.RollbackRequested, x.RollbackReason, x.RollbackRequestedBy = true, reason, "hotswap (automatic)"
		return []domain.LogEntry{logEntry(o.now(), "warn", "cancelling the running step: %s", reason)}
	})
	if err != nil {
		o.cfg.Logger.Warn("record rollback reason", "execution", id, "error", err)
	}
}

// finish ends an execution whose steps are all done.
func (o *Orchestrator) finish(ctx context.Context, e domain.Execution) {
	err := o.update(ctx, e.ExecutionID, func(x *domain.Execution) []domain.LogEntry {
		if len(activePhase(*x)) > 0 || x.Status.Terminal() {
			return nil
		}
		return o.conclude(x)
	})
	if err != nil {
		o.cfg.Logger.Warn("finish execution", "execution", e.ExecutionID, "error", err)
		return
	}
	o.cfg.Logger.Info("execution finished", "execution", e.ExecutionID)
	o.kick() // a queued execution, or the fleet it belongs to, may move on now
}

// conclude gives an execution whose steps all ended its final status.
func (o *Orchestrator) conclude(x *domain.Execution) []domain.LogEntry {
	now := o.now()
	x.CompletedAt, x.CurrentPhase = now, ""
	switch {
	case x.RollingBack && anyFailed(x.Steps, domain.Rollback):
		x.Status = domain.ExecutionFailed
		x.ErrorMessage = strings.TrimSpace(x.ErrorMessage + "; rollback failed: the database may be half-migrated, check the steps")
	case x.RollingBack:
		x.Status, x.RollbackCompletedAt = domain.ExecutionRolledBack, now
		for i := range x.Decisions {
			if x.Decisions[i].Action == "rollback" && x.Decisions[i].RollbackFinishedAt.IsZero() {
				x.Decisions[i].RollbackFinishedAt = now
			}
		}
	case anyFailed(x.Steps, domain.Forward):
		x.Status = domain.ExecutionFailed
	default:
		x.Status = domain.ExecutionSucceeded
	}
	return []domain.LogEntry{logEntry(now, "info", "execution %s after %s", x.Status, now.Sub(x.StartedAt).Round(time.Millisecond))}
}

func anyFailed(steps []domain.Step, dir domain.Direction) bool {
	for _, s := range steps {
		if s.Direction == dir && (s.Status == domain.StepFailed || s.Status == domain.StepCancelled) {
			return true
		}
	}
	return false
}

// failStep ends a running step with an error found by the control plane.
func (o *Orchestrator) failStep(ctx context.Context, execID, stepID string, attempt int, msg string) {
	res := &agentpb.StepResult{ExecutionId: execID, StepId: stepID, Attempt: int32(attempt), AgentError: msg}
	o.applyResult(ctx, res)
}

// receive handles one report from an agent.
func (o *Orchestrator) receive(ctx context.Context, in inbound) {
	switch {
	case in.result != nil:
		o.flushEvents(ctx) // the step's last events come before its result
		o.applyResult(ctx, in.result)
	case in.event != nil:
		o.bufferEvent(in.event)
	case in.breach != nil:
		o.applyBreach(ctx, in.agent, in.breach)
	}
}

// cancelPending cancels the steps not started yet (a dry run past its
// deadline starts nothing more).
func (o *Orchestrator) cancelPending(ctx context.Context, e domain.Execution) {
	err := o.update(ctx, e.ExecutionID, func(x *domain.Execution) []domain.LogEntry {
		n := 0
		for i := range x.Steps {
			if x.Steps[i].Status == domain.StepPending {
				x.Steps[i].Status = domain.StepCancelled
				n++
			}
		}
		if n == 0 {
			return nil
		}
		return []domain.LogEntry{logEntry(o.now(), "warn", "timeout: %d step(s) not started", n)}
	})
	if err != nil {
		o.cfg.Logger.Warn("cancel pending steps", "execution", e.ExecutionID, "error", err)
	}
}

func shadowWorkload(e domain.Execution, s domain.Step) []string {
	if e.Shadow == nil || s.Kind != domain.StepReplay {
		return nil
	}
	return e.Shadow.Workload
}

func shadowIterations(e domain.Execution) int32 {
	if e.Shadow == nil {
		return 0
	}
	return int32(e.Shadow.Iterations)
}
