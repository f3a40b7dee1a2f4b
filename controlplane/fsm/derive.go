package fsm

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// mutable returns a copy of the execution with id that a command may
// change: the slices and pointers it changes are its own, so readers
// holding the old record never see it move.
func (s *State) mutable(id string) (domain.Execution, error) {
	e, ok := s.executions[id]
	if !ok {
		return e, notFound("execution", id)
	}
	e.Steps = make([]domain.Step, len(e.Steps))
	for i, st := range s.executions[id].Steps {
		st.Statements = slices.Clone(st.Statements)
		e.Steps[i] = st
	}
	e.Decisions, e.Phases = slices.Clone(e.Decisions), slices.Clone(e.Phases)
	if e.Fleet != nil {
		f := *e.Fleet
		f.Children = maps.Clone(f.Children)
		if f.Children == nil {
			f.Children = map[string]string{}
		}
		e.Fleet = &f
	}
	if e.Shadow != nil {
		sh := *e.Shadow
		e.Shadow = &sh
	}
	return e, nil
}

// put stores a changed execution with its derived fields: progress, phase
// progress, version, and the migration's status when it ended.
func (s *State) put(e domain.Execution, logs ...domain.LogEntry) {
	prev := s.executions[e.ExecutionID]
	if e.Fleet != nil {
		fleetProgress(&e)
	} else {
		e.Progress = progress(e)
		phaseProgress(&e)
	}
	ended := e.Status.Terminal() && !prev.Status.Terminal()
	if ended && e.BlueGreen != nil {
		logs = append(logs, s.followTraffic(e)...)
	}
	e.Logs = appendLogs(e.Logs, logs)
	e.Version = s.index
	s.executions[e.ExecutionID] = e
	if ended {
		s.setMigrationStatus(e, migrationOutcome(e.Status))
	}
}

// phaseProgress updates each planned phase's count of finished steps.
func phaseProgress(e *domain.Execution) {
	for i := range e.Phases {
		p := &e.Phases[i]
		p.Steps, p.Done = 0, 0
		for _, s := range e.Steps {
			if s.Direction == domain.Forward && s.PhaseIndex == p.Index {
				p.Steps++
				if !Unfinished(s) {
					p.Done++
				}
			}
		}
		p.Progress = 100
		if p.Steps > 0 {
			p.Progress = p.Done * 100 / p.Steps
		}
	}
}

// progress is the share of the current direction's steps that finished.
func progress(e domain.Execution) int {
	dir := domain.Forward
	if e.RollingBack {
		dir = domain.Rollback
	}
	total, finished := 0, 0
	for _, s := range e.Steps {
		if s.Direction != dir {
			continue
		}
		total++
		if !Unfinished(s) {
			finished++
		}
	}
	if e.Status.Terminal() || total == 0 {
		return 100
	}
	return finished * 100 / total
}

// fleetProgress counts the waves done of a fleet rollout.
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

// Unfinished reports whether a step is still to run or running.
func Unfinished(s domain.Step) bool {
	return s.Status == domain.StepPending || s.Status == domain.StepRunning
}

// ActivePhase returns the unfinished steps of the first phase that has
// any: the steps that run together now.
func ActivePhase(e domain.Execution) []*domain.Step {
	phase := -1
	for i := range e.Steps {
		if s := &e.Steps[i]; Unfinished(*s) && (phase < 0 || s.PhaseIndex < phase) {
			phase = s.PhaseIndex
		}
	}
	var out []*domain.Step
	for i := range e.Steps {
		if s := &e.Steps[i]; Unfinished(*s) && s.PhaseIndex == phase {
			out = append(out, s)
		}
	}
	return out
}

// Outcome is the final status of an execution whose steps all ended, and
// the error message it ends with.
func Outcome(e domain.Execution) (domain.ExecutionStatus, string) {
	switch {
	case e.RollingBack && anyFailed(e.Steps, domain.Rollback):
		return domain.ExecutionFailed, joinMessage(e.ErrorMessage, rollbackFailedMessage)
	case e.RollingBack:
		return domain.ExecutionRolledBack, e.ErrorMessage
	case anyFailed(e.Steps, domain.Forward):
		return domain.ExecutionFailed, e.ErrorMessage
	}
	return domain.ExecutionSucceeded, e.ErrorMessage
}

// rollbackFailedMessage ends the message of an execution whose rollback failed.
const rollbackFailedMessage = "rollback failed: the database may be half-migrated, check the steps"

func joinMessage(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func anyFailed(steps []domain.Step, dir domain.Direction) bool {
	for _, s := range steps {
		if s.Direction == dir && (s.Status == domain.StepFailed || s.Status == domain.StepCancelled) {
			return true
		}
	}
	return false
}

// CanEnd reports whether a running execution (not a fleet's parent) has
// nothing left to do at time at: no step left, no monitor window to wait
// out, no rollback to plan.
func CanEnd(e domain.Execution, at time.Time) bool {
	return e.Status == domain.ExecutionRunning && e.Fleet == nil && len(ActivePhase(e)) == 0 &&
		!at.Before(e.MonitorUntil) && (!e.RollbackRequested || e.RollingBack)
}

// end gives an execution its final status at time at.
func end(e *domain.Execution, status domain.ExecutionStatus, msg string, at time.Time) domain.LogEntry {
	e.Status, e.ErrorMessage, e.CompletedAt, e.CurrentPhase, e.MonitorUntil = status, msg, at, "", time.Time{}
	if e.RollingBack && status == domain.ExecutionRolledBack {
		e.RollbackCompletedAt = at
		for i := range e.Decisions {
			if e.Decisions[i].Action == "rollback" && e.Decisions[i].RollbackFinishedAt.IsZero() {
				e.Decisions[i].RollbackFinishedAt = at
			}
		}
	}
	return logAt(at, "info", "execution %s after %s", status, at.Sub(e.StartedAt).Round(time.Millisecond))
}

func logAt(at time.Time, level, format string, a ...any) domain.LogEntry {
	return domain.LogEntry{Time: at, Level: level, Message: fmt.Sprintf(format, a...)}
}
