package orchestrator

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/controlplane/planner"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// driveFleet moves a fleet rollout on: it creates the current wave's
// executions (one per database, each queued for its own lock, all bounded
// by MaxConcurrent), goes to the next wave once they all succeeded, and on
// a failure stops and rolls back every database the rollout changed.
func (o *Orchestrator) driveFleet(ctx context.Context, e domain.Execution) {
	children := o.childrenOf(e.ExecutionID)
	switch {
	case e.RollbackRequested || e.RollingBack:
		o.rollBackFleet(ctx, e, children)
	case o.now().After(e.Deadline()):
		o.requestFleetRollback(ctx, e, "execution timeout exceeded")
	default:
		o.advanceFleet(ctx, e, children)
	}
}

// childrenOf returns a rollout's executions by database: the state, not
// the parent's record, is the truth, so a crash between creating a child and
// recording it creates no second one.
func (o *Orchestrator) childrenOf(parent string) map[string]domain.Execution {
	out := map[string]domain.Execution{}
	for _, c := range o.cfg.Raft.State().Executions(func(x *domain.Execution) bool { return x.ParentID == parent }) {
		out[c.DatabaseID] = c
	}
	return out
}

func (o *Orchestrator) advanceFleet(ctx context.Context, e domain.Execution, children map[string]domain.Execution) {
	wave := e.Fleet.Waves[e.Fleet.Wave]
	created, err := o.createChildren(ctx, e, wave, children)
	if err != nil {
		o.requestFleetRollback(ctx, e, fmt.Sprintf("wave %d: %v", e.Fleet.Wave+1, err))
		return
	}
	if len(created) > 0 {
		o.recordChildren(ctx, e.ExecutionID, created)
		o.kick() // start them now
		return
	}
	var failed []string
	for _, db := range wave {
		c := children[db]
		if !c.Status.Terminal() {
			return // the wave is still running
		}
		if c.Status != domain.ExecutionSucceeded {
			failed = append(failed, fmt.Sprintf("%s ended %s (%s)", db, c.Status, c.ErrorMessage))
		}
	}
	if len(failed) > 0 {
		o.requestFleetRollback(ctx, e, fmt.Sprintf("wave %d failed: %s", e.Fleet.Wave+1, strings.Join(failed, "; ")))
		return
	}
	o.nextWave(ctx, e.ExecutionID)
}

// createChildren commits, concurrently, the executions of the wave's
// databases that have none yet.
func (o *Orchestrator) createChildren(ctx context.Context, e domain.Execution, wave []string, children map[string]domain.Execution) (map[string]string, error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	created := map[string]string{}
	var firstErr error
	for _, db := range wave {
		if _, ok := children[db]; ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := o.createChild(ctx, e, db)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("database %s: %w", db, err)
			}
			if err == nil {
				created[db] = id
			}
		}()
	}
	wg.Wait()
	return created, firstErr
}

// createChild commits one database's execution of the rollout.
func (o *Orchestrator) createChild(ctx context.Context, e domain.Execution, dbID string) (string, error) {
	db, err := o.cfg.Raft.State().Database(dbID)
	if err != nil {
		return "", err
	}
	plan, err := planner.Forward(db, domain.Direct, o.cfg.Raft.State().ReportedInstance)
	if err != nil {
		return "", err
	}
	now := o.now()
	c := domain.Execution{ExecutionID: "exec-" + uuid.NewString(), MigrationID: e.MigrationID, DatabaseID: db.DatabaseID,
		Environment: db.Environment, Strategy: domain.Direct, Status: domain.ExecutionPending, InitiatedBy: e.InitiatedBy,
		DryRun: e.DryRun,
		Queued: true, Steps: plan.Steps, Phases: plan.Phases, LockTimeoutMs: e.LockTimeoutMs,
		StatementTimeoutMs: e.StatementTimeoutMs, TimeoutSeconds: e.TimeoutSeconds, Monitoring: e.Monitoring,
		Decisions: []domain.Decision{}, ParentID: e.ExecutionID, CreatedAt: now,
		Logs: []domain.LogEntry{logEntry(now, "info", "part of fleet rollout %s, wave %d", e.ExecutionID, e.Fleet.Wave+1)}}
	if _, err := o.cfg.Raft.Apply(ctx, fsm.CreateExecutionRequest{Execution: c}); err != nil {
		return "", err
	}
	return c.ExecutionID, nil
}

func (o *Orchestrator) recordChildren(ctx context.Context, id string, created map[string]string) {
	err := o.update(ctx, id, func(x *domain.Execution) []domain.LogEntry {
		x.Fleet = cloneFleet(x.Fleet)
		for db, child := range created {
			x.Fleet.Children[db] = child
		}
		x.CurrentPhase = fmt.Sprintf("wave %d", x.Fleet.Wave+1)
		return []domain.LogEntry{logEntry(o.now(), "info", "wave %d: %d execution(s) created", x.Fleet.Wave+1, len(created))}
	})
	if err != nil {
		o.cfg.Logger.Warn("record fleet children", "execution", id, "error", err)
	}
}

func (o *Orchestrator) nextWave(ctx context.Context, id string) {
	err := o.update(ctx, id, func(x *domain.Execution) []domain.LogEntry {
		x.Fleet = cloneFleet(x.Fleet)
		fleetProgress(x)
		if x.Fleet.Wave+1 < len(x.Fleet.Waves) {
			x.Fleet.Wave++
			o.kick() // create the next wave now
			return []domain.LogEntry{logEntry(o.now(), "info", "wave %d succeeded on every database; starting wave %d", x.Fleet.Wave, x.Fleet.Wave+1)}
		}
		x.Status, x.CompletedAt, x.CurrentPhase = domain.ExecutionSucceeded, o.now(), ""
		return []domain.LogEntry{logEntry(o.now(), "info", "every wave succeeded: execution Succeeded")}
	})
	if err != nil {
		o.cfg.Logger.Warn("next wave", "execution", id, "error", err)
	}
}

func (o *Orchestrator) requestFleetRollback(ctx context.Context, e domain.Execution, reason string) {
	err := o.update(ctx, e.ExecutionID, func(x *domain.Execution) []domain.LogEntry {
		if x.RollbackRequested {
			return nil
		}
		x.RollbackRequested, x.RollbackReason, x.RollbackRequestedBy = true, reason, "hotswap (automatic)"
		return []domain.LogEntry{logEntry(o.now(), "error", "stopping the rollout: %s", reason)}
	})
	if err != nil {
		o.cfg.Logger.Warn("request fleet rollback", "execution", e.ExecutionID, "error", err)
	}
}

// rollBackFleet asks every child that applied or is applying the change to
// roll back, and ends the rollout once they all ended.
func (o *Orchestrator) rollBackFleet(ctx context.Context, e domain.Execution, children map[string]domain.Execution) {
	if !e.RollingBack {
		o.markFleetRollingBack(ctx, e.ExecutionID)
	}
	done, failed := true, 0
	for _, c := range children {
		switch {
		case c.Status == domain.ExecutionSucceeded || (!c.Status.Terminal() && !c.RollbackRequested):
			o.requestChildRollback(ctx, c, e.RollbackReason)
			done = false
		case !c.Status.Terminal():
			done = false
		case c.Status == domain.ExecutionFailed:
			failed++
		}
	}
	if done {
		o.finishFleetRollback(ctx, e.ExecutionID, failed)
	}
}

func (o *Orchestrator) markFleetRollingBack(ctx context.Context, id string) {
	err := o.update(ctx, id, func(x *domain.Execution) []domain.LogEntry {
		if x.RollingBack {
			return nil
		}
		x.RollingBack, x.RollbackStartedAt, x.CurrentPhase = true, o.now(), "rollback"
		return []domain.LogEntry{logEntry(o.now(), "warn", "rolling back every database the rollout changed")}
	})
	if err != nil {
		o.cfg.Logger.Warn("fleet rollback", "execution", id, "error", err)
	}
}

func (o *Orchestrator) requestChildRollback(ctx context.Context, c domain.Execution, reason string) {
	_, err := o.cfg.Raft.Apply(ctx, fsm.RequestRollbackRequest{ExecutionID: c.ExecutionID,
		Reason: "fleet rollout stopped: " + reason, By: "hotswap (fleet rollout " + c.ParentID + ")", At: o.now()})
	if err != nil {
		o.cfg.Logger.Debug("request child rollback", "execution", c.ExecutionID, "error", err)
	}
}

func (o *Orchestrator) finishFleetRollback(ctx context.Context, id string, failed int) {
	err := o.update(ctx, id, func(x *domain.Execution) []domain.LogEntry {
		if x.Status.Terminal() {
			return nil
		}
		now := o.now()
		x.Status, x.CompletedAt, x.RollbackCompletedAt, x.CurrentPhase = domain.ExecutionRolledBack, now, now, ""
		if failed > 0 {
			x.Status = domain.ExecutionFailed
			x.ErrorMessage = fmt.Sprintf("%d database(s) could not be rolled back: see their executions", failed)
		}
		fleetProgress(x)
		return []domain.LogEntry{logEntry(now, "info", "fleet rollout %s", x.Status)}
	})
	if err != nil {
		o.cfg.Logger.Warn("finish fleet rollback", "execution", id, "error", err)
	}
}

func cloneFleet(f *domain.Fleet) *domain.Fleet {
	c := *f
	c.Children = make(map[string]string, len(f.Children))
	for k, v := range f.Children {
		c.Children[k] = v
	}
	return &c
}

// fleetProgress counts each wave's databases whose execution ended.
func fleetProgress(x *domain.Execution) {
	for i := range x.Phases {
		if i < x.Fleet.Wave || x.Status.Terminal() {
			x.Phases[i].Done, x.Phases[i].Progress = x.Phases[i].Steps, 100
		}
	}
	x.Progress = 100 * x.Fleet.Wave / max(1, len(x.Fleet.Waves))
	if x.Status.Terminal() {
		x.Progress = 100
	}
}
