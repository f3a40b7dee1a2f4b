package orchestrator

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/controlplane/planner"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/proto/agentpb"
)

// stepKey names one attempt of one step for one agent.
func stepKey(agent, execID, stepID string, attempt int) string {
	return fmt.Sprintf("%s|%s|%s|%d", agent, execID, stepID, attempt)
}

func agentOfKey(k string) string { a, _, _ := strings.Cut(k, "|"); return a }

// markRunning starts the next attempt of pending steps of one phase. The
// baselines of the steps that change the database are taken now, on the
// leader, from the samples streamed so far: the command carries them.
func (o *Orchestrator) markRunning(ctx context.Context, e domain.Execution, stepIDs []string) {
	now := o.now()
	cmd := fsm.DispatchStepsRequest{ExecutionID: e.ExecutionID, StepIDs: stepIDs, At: now}
	for _, id := range stepIDs {
		s, ok := e.Step(id)
		if ok && s.Baseline == nil && !e.DryRun && (s.Kind == domain.StepApply || s.Kind == domain.StepSwitch) {
			if cmd.Baselines == nil {
				cmd.Baselines = map[string]domain.Baseline{}
			}
			cmd.Baselines[id] = o.baseline(&e, s)
		}
	}
	_ = o.commit(ctx, "start steps", e.ExecutionID, cmd)
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
	msg.GetExecute().TraceContext = o.spans.step(e, s)
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
		Guard: g, MonitorMs: monitorMs, Kind: s.Kind, VerifiesStepId: s.Verifies, PoolerId: s.Pooler, SwitchTo: switchTarget(e, s),
		Workload: shadowWorkload(e, s), ReplayIterations: shadowIterations(e),
		MaxLagSeconds: e.Monitoring.Thresholds.WithDefaults().ReplicationLagSeconds,
		ExecutionId:   e.ExecutionID, StepId: s.StepID, MigrationId: m.MigrationID, MigrationName: m.Name,
		Direction: string(s.Direction), InstanceId: s.InstanceID, Script: m.Script(s.Direction), Checksum: m.Checksum(s.Direction),
		FencingToken: e.FencingToken, AppliedBy: e.InitiatedBy, LockTimeoutMs: e.LockTimeoutMs,
		StatementTimeoutMs: e.StatementTimeoutMs, DeadlineUnixMs: stepDeadline(e, s).UnixMilli(), DryRun: e.DryRun,
		Attempt: int32(s.Attempt), LocalOnly: s.LocalOnly, RevertsStepId: s.Reverts, ForwardScript: revertedScript(m, s),
		MinWorkloadShare: minWorkloadShare(e, s),
		NeverFree:        string(m.LockPolicy.NeverFree), TerminateBlockersAfterMs: m.LockPolicy.TerminateBlockersAfterMs,
		TerminatePrivileged: m.LockPolicy.TerminatePrivileged,
	}}}, nil
}

// revertedScript is, for a rollback step, the script of the forward step
// it undoes.
func revertedScript(m domain.Migration, s domain.Step) string {
	if s.Direction != domain.Rollback || s.Reverts == "" {
		return ""
	}
	return m.Script(domain.Forward)
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
			o.requestRollback(ctx, e.ExecutionID, "hotswap (automatic)", reason)
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
	var steps []domain.Step
	if e.Fleet == nil {
		steps = planner.Rollback(e.Steps)
	}
	_ = o.commit(ctx, "begin rollback", e.ExecutionID, fsm.StartRollbackRequest{ExecutionID: e.ExecutionID,
		Steps: steps, Reason: reason, At: o.now()})
}

// requestRollback commits why the orchestrator itself decided to roll back
// (a timeout, a failed wave), before the running steps are cancelled.
func (o *Orchestrator) requestRollback(ctx context.Context, id, by, reason string) {
	_ = o.commit(ctx, "request rollback", id, fsm.RequestRollbackRequest{ExecutionID: id, Reason: reason, By: by, At: o.now()})
}

// finish ends an execution whose steps are all done, with the status its
// steps say.
func (o *Orchestrator) finish(ctx context.Context, e domain.Execution) {
	if !fsm.CanEnd(e, o.now()) {
		return
	}
	status, _ := fsm.Outcome(e)
	if o.commit(ctx, "finish execution", e.ExecutionID, fsm.EndExecutionRequest{ExecutionID: e.ExecutionID,
		Status: status, At: o.now()}) != nil {
		return
	}
	o.cfg.Logger.Info("execution finished", "execution", e.ExecutionID, "status", status)
	o.kick() // a queued execution, or the fleet it belongs to, may move on now
}

// receive handles one report from an agent.
func (o *Orchestrator) receive(ctx context.Context, in inbound) {
	switch {
	case in.result != nil:
		o.applyResult(ctx, in.result) // with the step's last events, in one entry
	case in.event != nil:
		o.bufferEvent(in.event)
	case in.breach != nil:
		o.applyBreach(ctx, in.agent, in.breach)
	}
}

// cancelPending cancels the steps not started yet (a dry run past its
// deadline starts nothing more).
func (o *Orchestrator) cancelPending(ctx context.Context, e domain.Execution) {
	for _, s := range e.Steps {
		if s.Status == domain.StepPending {
			_ = o.commit(ctx, "cancel pending steps", e.ExecutionID,
				fsm.CancelPendingStepsRequest{ExecutionID: e.ExecutionID, Reason: "timeout", At: o.now()})
			return
		}
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

// switchTarget is the pooler target a switch step sends the clients to:
// the instance id of green or blue. The roles move after each switch, so
// the agent's config names its targets by instance, not by colour.
func switchTarget(e domain.Execution, s domain.Step) string {
	if s.Kind != domain.StepSwitch || e.BlueGreen == nil {
		return s.SwitchTo
	}
	if s.SwitchTo == "green" {
		return e.BlueGreen.Green.InstanceID
	}
	return e.BlueGreen.Blue.InstanceID
}

// minWorkloadShare is the least share of the master's calls a capture step
// must cover.
func minWorkloadShare(e domain.Execution, s domain.Step) float64 {
	if s.Kind != domain.StepCapture || e.Shadow == nil {
		return 0
	}
	return e.Shadow.MinWorkloadShare
}
