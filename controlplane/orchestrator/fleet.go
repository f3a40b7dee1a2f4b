package orchestrator

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

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
		o.requestRollback(ctx, e.ExecutionID, "hotswap (automatic)", "execution timeout exceeded")
	default:
		o.advanceFleet(ctx, e, children)
	}
}

// childrenOf returns a rollout's executions by database: the state, not
// the parent's record, is the truth.
func (o *Orchestrator) childrenOf(parent string) map[string]domain.Execution {
	out := map[string]domain.Execution{}
	for _, c := range o.cfg.Raft.State().Executions(func(x *domain.Execution) bool { return x.ParentID == parent }) {
		out[c.DatabaseID] = c
	}
	return out
}

func (o *Orchestrator) advanceFleet(ctx context.Context, e domain.Execution, children map[string]domain.Execution) {
	wave := e.Fleet.Waves[e.Fleet.Wave]
	if o.createWave(ctx, e, wave, children) {
		return
	}
	var failed []string
	for _, db := range wave {
		c, ok := children[db]
		if !ok || !c.Status.Terminal() {
			return // the wave is still running
		}
		if c.Status != domain.ExecutionSucceeded {
			failed = append(failed, fmt.Sprintf("%s ended %s (%s)", db, c.Status, c.ErrorMessage))
		}
	}
	if len(failed) > 0 {
		o.requestRollback(ctx, e.ExecutionID, "hotswap (automatic)",
			fmt.Sprintf("wave %d failed: %s", e.Fleet.Wave+1, strings.Join(failed, "; ")))
		return
	}
	if o.commit(ctx, "next wave", e.ExecutionID, fsm.PhaseDoneRequest{ExecutionID: e.ExecutionID, Phase: e.Fleet.Wave, At: o.now()}) == nil {
		o.kick() // create the next wave now
	}
}

// createWave commits, in one entry, the executions of the wave's databases
// that have none yet, starting as many as MaxConcurrent allows, and drives
// the started ones at once. It reports whether it created any (or tried).
func (o *Orchestrator) createWave(ctx context.Context, e domain.Execution, wave []string, children map[string]domain.Execution) bool {
	cmd := fsm.CreateFleetWaveRequest{ParentID: e.ExecutionID, Wave: e.Fleet.Wave, At: o.now()}
	for _, dbID := range wave {
		if _, ok := children[dbID]; ok {
			continue
		}
		c, err := o.newChild(e, dbID, cmd.At)
		if err != nil {
			o.requestRollback(ctx, e.ExecutionID, "hotswap (automatic)", fmt.Sprintf("wave %d: %v", e.Fleet.Wave+1, err))
			return true
		}
		cmd.Children = append(cmd.Children, c)
	}
	if len(cmd.Children) == 0 {
		return false
	}
	for _, c := range cmd.Children[:min(len(cmd.Children), o.freeSlots())] {
		cmd.Start = append(cmd.Start, c.ExecutionID)
	}
	if err := o.commit(ctx, "create fleet wave", e.ExecutionID, cmd); err != nil {
		o.requestRollback(ctx, e.ExecutionID, "hotswap (automatic)", fmt.Sprintf("wave %d: %v", e.Fleet.Wave+1, err))
		return true
	}
	o.driveStarted(ctx, cmd.Start)
	o.kick() // start the rest as slots free up
	return true
}

// newChild plans one database's execution of the rollout.
func (o *Orchestrator) newChild(e domain.Execution, dbID string, at time.Time) (domain.Execution, error) {
	db, err := o.cfg.Raft.State().Database(dbID)
	if err != nil {
		return domain.Execution{}, err
	}
	child, err := planner.FleetChild(e, db, o.cfg.Raft.State().ReportedInstance, "exec-"+uuid.NewString(), at)
	child.TraceContext = o.spans.contextOf(e) // each database's run is a part of the rollout's trace
	return child, err
}

// freeSlots is how many more executions may start under MaxConcurrent.
func (o *Orchestrator) freeSlots() int {
	return max(0, o.cfg.MaxConcurrent-o.runningCount())
}

// runningCount counts the executions holding their database's lock; a
// fleet's parent runs nothing itself: its children count.
func (o *Orchestrator) runningCount() int {
	return len(o.cfg.Raft.State().Executions(func(e *domain.Execution) bool {
		return (e.Status == domain.ExecutionRunning || e.Status == domain.ExecutionPaused) && e.Fleet == nil
	}))
}

// driveStarted dispatches the first steps of executions just started,
// concurrently: Raft batches their commits.
func (o *Orchestrator) driveStarted(ctx context.Context, ids []string) {
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o.driveFresh(ctx, id)
		}()
	}
	wg.Wait()
}

// rollBackFleet asks every child that applied or is applying the change to
// roll back, and ends the rollout once they all ended.
func (o *Orchestrator) rollBackFleet(ctx context.Context, e domain.Execution, children map[string]domain.Execution) {
	if !e.RollingBack {
		o.beginRollback(ctx, e, e.RollbackReason)
	}
	done, failed := true, 0
	for _, c := range children {
		switch {
		case c.Status == domain.ExecutionSucceeded || (!c.Status.Terminal() && !c.RollbackRequested):
			o.requestRollback(ctx, c.ExecutionID, "hotswap (fleet rollout "+c.ParentID+")", "fleet rollout stopped: "+e.RollbackReason)
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

func (o *Orchestrator) finishFleetRollback(ctx context.Context, id string, failed int) {
	cmd := fsm.EndExecutionRequest{ExecutionID: id, Status: domain.ExecutionRolledBack, At: o.now()}
	if failed > 0 {
		cmd.Status, cmd.Reason = domain.ExecutionFailed, fmt.Sprintf("%d database(s) could not be rolled back: see their executions", failed)
	}
	_ = o.commit(ctx, "finish fleet rollback", id, cmd)
}
