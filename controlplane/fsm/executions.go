package fsm

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// maxSnapshots bounds the snapshots kept per execution; the oldest go first.
const maxSnapshots = 5000

// AppendSnapshotsRequest keeps a batch of samples with an execution.
type AppendSnapshotsRequest struct {
	ExecutionID string
	Snapshots   []domain.Snapshot
}

// Type implements Command.
func (AppendSnapshotsRequest) Type() MessageType { return AppendSnapshotsType }

// PauseExecutionRequest pauses a running execution between phases.
type PauseExecutionRequest struct {
	ExecutionID string
	By, Reason  string
	At          time.Time
}

// ResumeExecutionRequest resumes a paused execution. When Strategy is set,
// the steps not started yet are replaced by Steps (a new plan of what is
// left); what was applied stays.
type ResumeExecutionRequest struct {
	ExecutionID string
	By          string
	Reason      string `json:",omitempty"`
	At          time.Time
	Strategy    domain.Strategy
	Steps       []domain.Step
	Phases      []domain.PhaseView
}

// Type implements Command.
func (PauseExecutionRequest) Type() MessageType { return PauseExecutionType }

// Type implements Command.
func (ResumeExecutionRequest) Type() MessageType { return ResumeExecutionType }

func (s *State) applyPauseExecution(r PauseExecutionRequest) error {
	e, ok := s.executions[r.ExecutionID]
	if !ok {
		return notFound("execution", r.ExecutionID)
	}
	if e.Status != domain.ExecutionRunning || e.RollingBack {
		return conflict("execution %s is %s: only a running forward execution can be paused", e.ExecutionID, e.Status)
	}
	e.Status, e.PausedBy, e.Version = domain.ExecutionPaused, r.By, s.index
	e.Logs = appendLogs(e.Logs, []domain.LogEntry{{Time: r.At, Level: "warn",
		Message: "paused by " + r.By + ": " + r.Reason + " (running steps finish; the next phase waits)"}})
	s.executions[e.ExecutionID] = e
	return nil
}

func (s *State) applyResumeExecution(r ResumeExecutionRequest) error {
	e, ok := s.executions[r.ExecutionID]
	if !ok {
		return notFound("execution", r.ExecutionID)
	}
	if e.Status != domain.ExecutionPaused {
		return conflict("execution %s is %s, not Paused", e.ExecutionID, e.Status)
	}
	msg := "resumed by " + r.By
	if r.Reason != "" {
		msg += ": " + r.Reason
	}
	if r.Strategy != "" {
		if id, dup := duplicateStep(e.Steps, r.Steps); dup {
			return conflict("step id %s is used twice: re-plan again", id)
		}
		e.Steps, e.Phases = replan(e.Steps, e.Phases, r.Steps, r.Phases)
		msg += fmt.Sprintf(", switching to %s for what is left (%d step(s))", r.Strategy, len(r.Steps))
		e.Strategy = r.Strategy
	}
	e.Status, e.PausedBy, e.Version = domain.ExecutionRunning, "", s.index
	e.Logs = appendLogs(e.Logs, []domain.LogEntry{{Time: r.At, Level: "info", Message: msg}})
	s.executions[e.ExecutionID] = e
	return nil
}

// duplicateStep finds a new step whose id a kept step already has.
func duplicateStep(cur, next []domain.Step) (string, bool) {
	ids := map[string]bool{}
	for _, s := range cur {
		if s.Status != domain.StepPending {
			ids[s.StepID] = true
		}
	}
	for _, s := range next {
		if ids[s.StepID] {
			return s.StepID, true
		}
		ids[s.StepID] = true
	}
	return "", false
}

// replan keeps the steps that started, and their phases, and puts next
// the new plan's steps and phases, numbered after the last phase kept.
func replan(cur []domain.Step, curPhases []domain.PhaseView, next []domain.Step, nextPhases []domain.PhaseView) ([]domain.Step, []domain.PhaseView) {
	var kept []domain.Step
	top := -1
	for _, st := range cur {
		if st.Status != domain.StepPending {
			kept = append(kept, st)
			top = max(top, st.PhaseIndex)
		}
	}
	var phases []domain.PhaseView
	for _, p := range curPhases {
		if p.Index <= top {
			phases = append(phases, p)
		}
	}
	for _, st := range next {
		st.PhaseIndex += top + 1
		kept = append(kept, st)
	}
	for _, p := range nextPhases {
		p.Index += top + 1
		phases = append(phases, p)
	}
	return kept, phases
}

// Snapshots returns the samples kept with an execution, oldest first.
func (s *State) Snapshots(executionID string) []domain.Snapshot {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]domain.Snapshot(nil), s.snapshots[executionID]...)
}

func (s *State) applyAppendSnapshots(r AppendSnapshotsRequest) error {
	if _, ok := s.executions[r.ExecutionID]; !ok {
		return notFound("execution", r.ExecutionID)
	}
	cur := append(slices.Clip(s.snapshots[r.ExecutionID]), r.Snapshots...)
	if len(cur) > maxSnapshots {
		cur = cur[len(cur)-maxSnapshots:]
	}
	s.snapshots[r.ExecutionID] = cur
	return nil
}

// executionSnapshots is an execution's snapshots as one snapshot record.
type executionSnapshots struct {
	ExecutionID string            `json:"executionId"`
	Snapshots   []domain.Snapshot `json:"snapshots"`
}

// maxExecutionLogs bounds an execution's log in the state; the oldest
// entries go first.
const maxExecutionLogs = 2000

// CreateExecutionRequest stores a new execution, planned and Pending. For
// a fleet rollout, Children are the executions of its first wave, created
// in the same entry.
type CreateExecutionRequest struct {
	Execution domain.Execution
	Children  []domain.Execution `json:",omitempty"`
}

// StartExecutionRequest takes the database's execution lock for an
// execution and starts it. The Raft index of this command becomes the
// execution's fencing token.
type StartExecutionRequest struct {
	ExecutionID string
	StartedAt   time.Time
}

// UpdateExecutionRequest replaces an execution computed from Version by the
// orchestrator, and appends logs. A stale Version is refused.
//
// Retired: the orchestrator now commits one typed command per change
// (DispatchStepsRequest, StepResultRequest, ...). It stays decodable and
// applicable so that an older log replays.
type UpdateExecutionRequest struct {
	Execution  domain.Execution
	AppendLogs []domain.LogEntry
}

// RequestRollbackRequest asks for an execution to be rolled back.
type RequestRollbackRequest struct {
	ExecutionID string
	Reason      string
	By          string
	At          time.Time
}

// Type implements Command.
func (CreateExecutionRequest) Type() MessageType { return CreateExecutionType }

// Type implements Command.
func (StartExecutionRequest) Type() MessageType { return StartExecutionType }

// Type implements Command.
func (UpdateExecutionRequest) Type() MessageType { return UpdateExecutionType }

// Type implements Command.
func (RequestRollbackRequest) Type() MessageType { return RequestRollbackType }

// Execution returns the execution with id.
func (s *State) Execution(id string) (domain.Execution, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.executions[id]
	if !ok {
		return domain.Execution{}, notFound("execution", id)
	}
	return e, nil
}

// Executions returns the executions matching keep, oldest first.
func (s *State) Executions(keep func(*domain.Execution) bool) []domain.Execution {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []domain.Execution{}
	for _, e := range s.executions {
		if keep == nil || keep(&e) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b domain.Execution) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ExecutionID, b.ExecutionID)
	})
	return out
}

// LockHolder returns the execution holding the database's execution lock:
// the started, unfinished one.
func (s *State) LockHolder(databaseID string) (domain.Execution, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.lockHolderLocked(databaseID)
}

func (s *State) lockHolderLocked(databaseID string) (domain.Execution, bool) {
	for _, e := range s.executions {
		if e.DatabaseID == databaseID && holdsLock(&e) {
			return e, true
		}
	}
	return domain.Execution{}, false
}

func holdsLock(e *domain.Execution) bool {
	return e.Status == domain.ExecutionRunning || e.Status == domain.ExecutionPaused
}

// activeOn returns an unfinished execution on the database other than id.
func (s *State) activeOn(databaseID, id string) (domain.Execution, bool) {
	for _, e := range s.executions {
		if e.DatabaseID == databaseID && e.ExecutionID != id && !e.Status.Terminal() {
			return e, true
		}
	}
	return domain.Execution{}, false
}

func (s *State) applyCreateExecution(r CreateExecutionRequest) error {
	e := r.Execution
	if err := s.checkCreate(e); err != nil {
		return err
	}
	if len(r.Children) > 0 && e.Fleet == nil {
		return conflict("execution %s is not a fleet rollout: it has no children", e.ExecutionID)
	}
	e.Version = s.index
	s.executions[e.ExecutionID] = e
	if len(r.Children) == 0 {
		return nil
	}
	err := s.applyCreateFleetWave(CreateFleetWaveRequest{ParentID: e.ExecutionID, Children: r.Children, At: e.CreatedAt})
	if err != nil {
		delete(s.executions, e.ExecutionID) // the rollout and its first wave are created together or not at all
	}
	return err
}

// checkCreate refuses an execution that exists, whose migration does not,
// whose database is busy (unless it queues), or whose migration is already
// applied there.
func (s *State) checkCreate(e domain.Execution) error {
	if _, ok := s.executions[e.ExecutionID]; ok {
		return conflict("execution %q already exists", e.ExecutionID)
	}
	if _, ok := s.migrations[e.MigrationID]; !ok {
		return notFound("migration", e.MigrationID)
	}
	if other, busy := s.activeOn(e.DatabaseID, e.ExecutionID); busy && !e.Queued {
		return conflict("database is busy with execution %s (%s); retry later or queue this one", other.ExecutionID, other.Status)
	}
	if prior, ok := s.appliedBy(e); ok && !e.DryRun {
		return conflict("migration is already applied on this database by execution %s (%s): roll that back first",
			prior.ExecutionID, prior.Status)
	}
	return nil
}

// appliedBy finds a real execution of the same migration on the same
// database that is applied or on its way: running it again would apply the
// script twice.
func (s *State) appliedBy(e domain.Execution) (domain.Execution, bool) {
	for _, o := range s.executions {
		if o.MigrationID == e.MigrationID && o.DatabaseID == e.DatabaseID && !o.DryRun &&
			(!o.Status.Terminal() || o.Status == domain.ExecutionSucceeded) {
			return o, true
		}
	}
	return domain.Execution{}, false
}

func (s *State) applyStartExecution(r StartExecutionRequest) error {
	return s.startLocked(r.ExecutionID, r.StartedAt)
}

// startLocked takes the database's lock for a pending execution: the
// index of the entry applied is its fencing token.
func (s *State) startLocked(id string, at time.Time) error {
	e, ok := s.executions[id]
	if !ok {
		return notFound("execution", id)
	}
	if holder, held := s.lockHolderLocked(e.DatabaseID); held && holder.ExecutionID != e.ExecutionID {
		return conflict("database lock is held by execution %s", holder.ExecutionID)
	}
	if e.Status != domain.ExecutionPending {
		return conflict("execution %s is %s, not Pending", e.ExecutionID, e.Status)
	}
	e.Status, e.StartedAt, e.FencingToken, e.Version = domain.ExecutionRunning, at, s.index, s.index
	s.executions[e.ExecutionID] = e
	s.setMigrationStatus(e, domain.MigrationInProgress)
	return nil
}

func (s *State) applyUpdateExecution(r UpdateExecutionRequest) error {
	cur, ok := s.executions[r.Execution.ExecutionID]
	if !ok {
		return notFound("execution", r.Execution.ExecutionID)
	}
	if cur.Version != r.Execution.Version {
		return conflict("execution %s changed (version %d, update from %d)", cur.ExecutionID, cur.Version, r.Execution.Version)
	}
	next := r.Execution
	next.Logs = appendLogs(cur.Logs, r.AppendLogs)
	next.Version = s.index
	s.executions[next.ExecutionID] = next
	if next.Status.Terminal() && !cur.Status.Terminal() {
		s.setMigrationStatus(next, migrationOutcome(next.Status))
	}
	return nil
}

func (s *State) applyRequestRollback(r RequestRollbackRequest) error {
	e, ok := s.executions[r.ExecutionID]
	if !ok {
		return notFound("execution", r.ExecutionID)
	}
	switch {
	case e.Status == domain.ExecutionRolledBack || e.Status == domain.ExecutionFailed:
		return conflict("execution %s is already %s", e.ExecutionID, e.Status)
	case e.RollbackRequested || e.RollingBack:
		return conflict("execution %s is already rolling back", e.ExecutionID)
	case e.Status == domain.ExecutionSucceeded:
		if holder, held := s.lockHolderLocked(e.DatabaseID); held {
			return conflict("database lock is held by execution %s", holder.ExecutionID)
		}
		// Reopened: it takes the lock again, with a new fencing token, so
		// agents that saw later executions accept its rollback steps.
		e.Status, e.CompletedAt, e.FencingToken = domain.ExecutionRunning, time.Time{}, s.index
		s.setMigrationStatus(e, domain.MigrationInProgress)
	}
	e.RollbackRequested, e.RollbackReason, e.RollbackRequestedBy = true, r.Reason, r.By
	e.Logs = appendLogs(e.Logs, []domain.LogEntry{{Time: r.At, Level: "warn",
		Message: "rollback requested by " + r.By + ": " + r.Reason}})
	e.Version = s.index
	s.executions[e.ExecutionID] = e
	return nil
}

func (s *State) setMigrationStatus(e domain.Execution, status domain.MigrationStatus) {
	if e.DryRun || e.ParentID != "" {
		return // a fleet's children leave the migration's status to their parent
	}
	if m, ok := s.migrations[e.MigrationID]; ok {
		m.Status = status
		s.migrations[m.MigrationID] = m
	}
}

func migrationOutcome(s domain.ExecutionStatus) domain.MigrationStatus {
	switch s {
	case domain.ExecutionSucceeded:
		return domain.MigrationSucceeded
	case domain.ExecutionRolledBack:
		return domain.MigrationRolledBack
	}
	return domain.MigrationFailed
}

func appendLogs(cur, add []domain.LogEntry) []domain.LogEntry {
	out := append(slices.Clip(cur), add...)
	if len(out) > maxExecutionLogs {
		out = out[len(out)-maxExecutionLogs:]
	}
	return out
}
