package fsm

import (
	"fmt"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// DecisionRequest commits what a guard rule concluded about a running
// execution, with its reason: roll back (a counter degraded in a monitor
// window), pause or resume (replication lag). DecidedBy is "leader" or
// "agent <name>".
type DecisionRequest struct {
	ExecutionID string
	Decision    domain.Decision
	StepID      string `json:",omitempty"`
	DecidedBy   string
	At          time.Time
}

// StartRollbackRequest stops the forward run: the steps not started are
// cancelled and Steps, the rollback of what was applied, are planned. On a
// fleet rollout there are no steps: its children roll back by themselves.
type StartRollbackRequest struct {
	ExecutionID string
	Steps       []domain.Step
	Reason      string
	At          time.Time
}

// EndExecutionRequest ends an execution with its final status. For an
// execution of its own, Status must be what its steps say (see Outcome);
// for a fleet rollout, Reason says why it ends so.
type EndExecutionRequest struct {
	ExecutionID string
	Status      domain.ExecutionStatus
	Reason      string `json:",omitempty"`
	At          time.Time
}

// Type implements Command.
func (DecisionRequest) Type() MessageType { return DecisionType }

// Type implements Command.
func (StartRollbackRequest) Type() MessageType { return StartRollbackType }

// Type implements Command.
func (EndExecutionRequest) Type() MessageType { return EndExecutionType }

func (s *State) applyDecision(r DecisionRequest) error {
	e, err := s.mutable(r.ExecutionID)
	if err != nil {
		return err
	}
	d := r.Decision
	d.StepID, d.DecidedBy, d.CommittedAt = r.StepID, r.DecidedBy, r.At
	var line domain.LogEntry
	switch {
	case d.Action == "rollback" && !e.Status.Terminal() && !e.RollbackRequested && !e.RollingBack:
		line = decideRollback(&e, d)
	case d.Action == "pause" && e.Status == domain.ExecutionRunning && !e.RollingBack && !e.RollbackRequested:
		e.Status, e.Decisions = domain.ExecutionPaused, append(e.Decisions, d)
		line = logAt(r.At, "warn", "guard: %s: execution %s", d.Reason(), e.Status)
	case d.Action == "resume" && e.Status == domain.ExecutionPaused && e.PausedBy == "":
		e.Status, e.Decisions = domain.ExecutionRunning, append(e.Decisions, d)
		line = logAt(r.At, "warn", "guard: %s: execution %s", d.Reason(), e.Status)
	default:
		return conflict("execution %s is %s (rollback requested: %v): a %q decision does not apply",
			e.ExecutionID, e.Status, e.RollbackRequested, d.Action)
	}
	s.put(e, line)
	return nil
}

// decideRollback records a rollback decision on e; d is complete (step,
// decider and commit time set).
func decideRollback(e *domain.Execution, d domain.Decision) domain.LogEntry {
	e.Decisions = append(e.Decisions, d)
	e.RollbackRequested, e.RollbackReason, e.RollbackRequestedBy = true, d.Reason(), "hotswap (guard)"
	e.MonitorUntil = time.Time{}
	return logAt(d.CommittedAt, "error", "guard: %s (decided by %s, %s after onset): rolling back",
		d.Reason(), d.DecidedBy, d.DetectedAt.Sub(d.OnsetAt).Round(time.Millisecond))
}

func (s *State) applyStartRollback(r StartRollbackRequest) error {
	e, err := s.mutable(r.ExecutionID)
	if err != nil {
		return err
	}
	switch {
	case e.Status != domain.ExecutionRunning:
		return conflict("execution %s is %s, not Running: it cannot start rolling back", e.ExecutionID, e.Status)
	case e.RollingBack:
		return conflict("execution %s is already rolling back", e.ExecutionID)
	case len(runningSteps(e)) > 0:
		return conflict("execution %s has step %s running: it must end first", e.ExecutionID, runningSteps(e)[0])
	case e.Fleet != nil && len(r.Steps) > 0:
		return conflict("a fleet rollout rolls back through its children, not steps of its own")
	}
	if id, dup := duplicateStep(e.Steps, r.Steps); dup {
		return conflict("rollback step id %s is already used", id)
	}
	for i := range e.Steps {
		if e.Steps[i].Status == domain.StepPending {
			e.Steps[i].Status = domain.StepCancelled
		}
	}
	e.Steps = append(e.Steps, r.Steps...)
	e.RollingBack, e.RollbackRequested, e.CurrentPhase = true, true, "rollback"
	e.MonitorUntil, e.RollbackStartedAt = time.Time{}, r.At
	if e.RollbackReason == "" {
		e.RollbackReason = r.Reason
	}
	line := logAt(r.At, "warn", "rolling back %d applied step(s): %s", len(r.Steps), r.Reason)
	if e.Fleet != nil {
		line = logAt(r.At, "warn", "rolling back every database the rollout changed: %s", r.Reason)
	}
	s.put(e, line)
	return nil
}

func runningSteps(e domain.Execution) []string {
	var out []string
	for _, st := range e.Steps {
		if st.Status == domain.StepRunning {
			out = append(out, st.StepID)
		}
	}
	return out
}

func (s *State) applyEndExecution(r EndExecutionRequest) error {
	e, err := s.mutable(r.ExecutionID)
	if err != nil {
		return err
	}
	if err := s.checkEnd(e, r); err != nil {
		return err
	}
	msg := e.ErrorMessage
	if e.Fleet == nil {
		_, msg = Outcome(e)
	} else if r.Status != domain.ExecutionSucceeded {
		msg = r.Reason
	}
	line := end(&e, r.Status, msg, r.At)
	if e.Fleet != nil {
		line = logAt(r.At, "info", "fleet rollout %s", r.Status)
		if r.Reason != "" {
			line.Message += ": " + r.Reason
		}
	}
	s.put(e, line)
	return nil
}

// checkEnd allows an end only from Running, once nothing is left to run:
// for an execution of its own, with the status its steps say; for a fleet
// rollout, Succeeded once every wave succeeded, or RolledBack or Failed
// once it rolled back and every child ended.
func (s *State) checkEnd(e domain.Execution, r EndExecutionRequest) error {
	if e.Status != domain.ExecutionRunning {
		return conflict("execution %s is %s: it cannot end %s", e.ExecutionID, e.Status, r.Status)
	}
	if !r.Status.Terminal() {
		return conflict("an execution ends Succeeded, Failed or RolledBack, not %q", r.Status)
	}
	if e.Fleet != nil {
		return s.checkFleetEnd(e, r.Status)
	}
	if !CanEnd(e, r.At) {
		return conflict("execution %s still has steps to run, a monitor window or a rollback to plan", e.ExecutionID)
	}
	if want, _ := Outcome(e); want != r.Status {
		return conflict("execution %s ends %s by its steps, not %s", e.ExecutionID, want, r.Status)
	}
	return nil
}

func (s *State) checkFleetEnd(e domain.Execution, status domain.ExecutionStatus) error {
	if status == domain.ExecutionSucceeded {
		if e.RollingBack || e.Fleet.Wave != len(e.Fleet.Waves)-1 {
			return conflict("fleet rollout %s is not in its last wave", e.ExecutionID)
		}
		return s.checkWaveSucceeded(e)
	}
	if !e.RollingBack {
		return conflict("fleet rollout %s ends %s only once it rolls back", e.ExecutionID, status)
	}
	for db, id := range e.Fleet.Children {
		if c := s.executions[id]; !c.Status.Terminal() {
			return conflict("database %s's execution %s is still %s", db, id, c.Status)
		}
	}
	return nil
}

// checkWaveSucceeded refuses unless every database of the current wave
// has a succeeded execution.
func (s *State) checkWaveSucceeded(e domain.Execution) error {
	for _, db := range e.Fleet.Waves[e.Fleet.Wave] {
		c, ok := s.executions[e.Fleet.Children[db]]
		if !ok || c.Status != domain.ExecutionSucceeded {
			return conflict("wave %d of %s: database %s has not succeeded (%s)", e.Fleet.Wave+1, e.ExecutionID, db,
				fmt.Sprint(c.Status))
		}
	}
	return nil
}
