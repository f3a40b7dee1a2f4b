package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/domain"
)

func (o *Orchestrator) runningTick(ctx context.Context, e domain.Execution) {
	if e.Fleet != nil {
		o.driveFleet(ctx, e)
		return
	}
	o.keepSnapshots(ctx, e)
	o.watchLag(ctx, e)
	o.watchWindow(ctx, e)
	o.drive(ctx, e)
}

func (o *Orchestrator) pausedTick(ctx context.Context, e domain.Execution) {
	o.keepSnapshots(ctx, e)
	if _, ok := o.rollbackReason(e); ok && !e.DryRun {
		o.unpauseToRollBack(ctx, e)
		return
	}
	o.watchLag(ctx, e)
	o.watchWindow(ctx, e)
	// Steps started before the pause still run to their end.
	for _, s := range runningSteps(e) {
		o.dispatch(ctx, e, *s)
	}
}

// driveFresh drives an execution from its newest committed state.
func (o *Orchestrator) driveFresh(ctx context.Context, id string) {
	e, err := o.cfg.Raft.State().Execution(id)
	if err != nil || e.Status != domain.ExecutionRunning {
		return
	}
	if e.Fleet != nil {
		o.driveFleet(ctx, e)
		return
	}
	// The instance's counters at the start are kept with the execution,
	// also when it ends before the next tick would keep any.
	o.keepSnapshots(ctx, e)
	o.watchLag(ctx, e) // a lagging database pauses before its first step
	if e, err = o.cfg.Raft.State().Execution(id); err == nil && e.Status == domain.ExecutionRunning {
		o.drive(ctx, e)
	}
}

// start takes the database's lock for a pending execution, if it is free.
func (o *Orchestrator) start(ctx context.Context, e domain.Execution) bool {
	if _, held := o.cfg.Raft.State().LockHolder(e.DatabaseID); held {
		return false
	}
	_, err := o.cfg.Raft.Apply(ctx, fsm.StartExecutionRequest{ExecutionID: e.ExecutionID, StartedAt: o.now()})
	if err != nil {
		if !errors.Is(err, fsm.ErrConflict) {
			o.cfg.Logger.Warn("start execution", "execution", e.ExecutionID, "error", err)
		}
		return false
	}
	o.cfg.Logger.Info("execution started", "execution", e.ExecutionID, "database", e.DatabaseID)
	return true
}

// drive decides the next move of a running execution.
func (o *Orchestrator) drive(ctx context.Context, e domain.Execution) {
	if !e.RollingBack && !e.DryRun {
		if reason, ok := o.rollbackReason(e); ok {
			o.beginRollback(ctx, e, reason)
			return
		}
	}
	if e.DryRun && o.now().After(e.Deadline()) {
		o.cancelRunning(e, "execution timeout")
		o.cancelPending(ctx, e)
		return
	}
	phase := fsm.ActivePhase(e)
	running := runningSteps(e)
	if len(running) == 0 && o.now().Before(e.MonitorUntil) {
		o.spans.monitoring(e)
		return // watching the last phase before going on
	}
	o.spans.monitorOver(e.ExecutionID)
	if len(phase) == 0 {
		o.finish(ctx, e)
		return
	}
	var pending []string
	for _, s := range phase {
		if s.Status == domain.StepPending {
			pending = append(pending, s.StepID)
		}
	}
	if len(pending) > 0 {
		o.markRunning(ctx, e, pending)
		if fresh, err := o.cfg.Raft.State().Execution(e.ExecutionID); err == nil {
			running = runningSteps(fresh) // dispatch what just started, now
			e = fresh
		}
	}
	for _, s := range running {
		if o.abandoned(e, s) {
			o.failStep(ctx, e.ExecutionID, s.StepID, s.Attempt, "no result from agent "+s.Agent+" by the step's deadline")
			continue
		}
		o.dispatch(ctx, e, *s)
	}
}

// abandonGrace is how long past its deadline a step that changes nothing
// may stay unanswered before it is failed.
const abandonGrace = time.Minute

// abandoned reports whether a running step that changes nothing (verify,
// capture, replay) is long past its deadline without an answer, its agent
// gone. An apply or switch step is never given up on this way: whether it
// changed the database is unknown, and it is found out when its agent
// answers a re-delivery.
func (o *Orchestrator) abandoned(e domain.Execution, s *domain.Step) bool {
	if s.Kind == domain.StepApply || s.Kind == domain.StepSwitch {
		return false
	}
	return o.now().After(stepDeadline(e, *s).Add(abandonGrace))
}

// rollbackReason says why a running forward execution must roll back.
func (o *Orchestrator) rollbackReason(e domain.Execution) (string, bool) {
	switch {
	case e.RollbackRequested:
		return e.RollbackReason, true
	case !e.StartedAt.IsZero() && o.now().After(e.Deadline()):
		return fmt.Sprintf("execution timeout of %s exceeded", time.Duration(e.TimeoutSeconds)*time.Second), true
	}
	return "", false
}

// runningSteps returns the steps handed to agents and not yet reported.
func runningSteps(e domain.Execution) []*domain.Step {
	var out []*domain.Step
	for i := range e.Steps {
		if e.Steps[i].Status == domain.StepRunning {
			out = append(out, &e.Steps[i])
		}
	}
	return out
}
