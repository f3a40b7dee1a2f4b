package fsm

import (
	"fmt"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// DispatchStepsRequest hands pending steps of one phase to their agents:
// each starts its next attempt at At. Baselines, by step id, are what each
// step's instance looked like before it starts (computed on the leader from
// the samples agents stream).
type DispatchStepsRequest struct {
	ExecutionID string
	StepIDs     []string
	At          time.Time
	Baselines   map[string]domain.Baseline `json:",omitempty"`
}

// StepResultRequest records how one attempt of a running step ended, as
// its agent (or the control plane, for a step it gave up on) reported it.
// A failed forward step asks for a rollback; when nothing is left to run,
// the execution ends in the same entry.
type StepResultRequest struct {
	ExecutionID    string
	StepID         string
	Attempt        int
	At             time.Time
	Status         domain.StepStatus // Succeeded, Failed or Cancelled
	Error          *domain.DBError   `json:",omitempty"`
	Statements     []domain.StatementResult
	Transactional  bool `json:",omitempty"`
	AlreadyApplied bool `json:",omitempty"`
	Retries        int  `json:",omitempty"`
	// Replay is what a replay step measured; Shadow the Shadow rollout's
	// record after this step (workload captured, replay verdict): only what
	// the step found is taken from it (see mergeShadow).
	Replay *domain.ReplayResult `json:",omitempty"`
	Shadow *domain.ShadowRun    `json:",omitempty"`
	// Decision is a guard breach the agent reported with the result: the
	// execution rolls back for it.
	Decision *domain.Decision `json:",omitempty"`
	// Notes are log lines the leader adds about the result (the shadow
	// comparison).
	Notes []domain.LogEntry `json:",omitempty"`
	// EventLogs and EventStatements are the execution's step events not
	// committed yet (the step's last progress reports), kept before the
	// result in the same entry.
	EventLogs       []domain.LogEntry                   `json:",omitempty"`
	EventStatements map[string][]domain.StatementResult `json:",omitempty"`
}

// StepEventsRequest keeps a batch of progress reports from running steps:
// their log lines and, by step id, the statements they finished.
type StepEventsRequest struct {
	ExecutionID string
	Logs        []domain.LogEntry
	Statements  map[string][]domain.StatementResult `json:",omitempty"`
}

// CancelPendingStepsRequest cancels every step not started yet (a dry run
// past its deadline starts nothing more).
type CancelPendingStepsRequest struct {
	ExecutionID string
	Reason      string
	At          time.Time
}

// Type implements Command.
func (DispatchStepsRequest) Type() MessageType { return DispatchStepsType }

// Type implements Command.
func (StepResultRequest) Type() MessageType { return StepResultType }

// Type implements Command.
func (StepEventsRequest) Type() MessageType { return StepEventsType }

// Type implements Command.
func (CancelPendingStepsRequest) Type() MessageType { return CancelPendingStepsType }

// applyDispatchSteps refuses the whole batch unless the execution runs and
// every step is Pending, in its first unfinished phase.
func (s *State) applyDispatchSteps(r DispatchStepsRequest) error {
	e, err := s.mutable(r.ExecutionID)
	if err != nil {
		return err
	}
	if e.Status != domain.ExecutionRunning {
		return conflict("execution %s is %s: no step is dispatched", e.ExecutionID, e.Status)
	}
	active := map[string]bool{}
	for _, st := range ActivePhase(e) {
		active[st.StepID] = true
	}
	var logs []domain.LogEntry
	for _, id := range r.StepIDs {
		st, ok := e.Step(id)
		switch {
		case !ok:
			return notFound("step", id)
		case st.Status != domain.StepPending:
			return conflict("step %s of execution %s is %s, not Pending", id, e.ExecutionID, st.Status)
		case !active[id]:
			return conflict("step %s of execution %s is not in the phase that runs now", id, e.ExecutionID)
		}
		st.Status, st.Attempt, st.StartedAt = domain.StepRunning, st.Attempt+1, r.At
		if b, ok := r.Baselines[id]; ok && st.Baseline == nil {
			st.Baseline = &b
		}
		e.CurrentPhase = st.Phase
		logs = append(logs, domain.LogEntry{Time: r.At, Level: "info", StepID: id,
			Message: fmt.Sprintf("step %s (%s %s) starting on %s/%s", id, st.Kind, st.Direction, st.Agent, st.InstanceID)})
	}
	s.put(e, logs...)
	return nil
}

// applyStepResult refuses a result for a step that is not Running with the
// same attempt: a duplicate (the agent answered a re-delivery) or a stale
// attempt. The orchestrator checks first, so such an entry is rare; when
// one is committed anyway, it changes nothing.
func (s *State) applyStepResult(r StepResultRequest) error {
	e, err := s.mutable(r.ExecutionID)
	if err != nil {
		return err
	}
	st, ok := e.Step(r.StepID)
	switch {
	case !ok:
		return notFound("step", r.StepID)
	case st.Status != domain.StepRunning || st.Attempt != r.Attempt:
		return conflict("step %s attempt %d of execution %s is %s (attempt %d): result already recorded or stale",
			r.StepID, r.Attempt, e.ExecutionID, st.Status, st.Attempt)
	case r.Status != domain.StepSucceeded && r.Status != domain.StepFailed && r.Status != domain.StepCancelled:
		return conflict("a step ends Succeeded, Failed or Cancelled, not %q", r.Status)
	}
	mergeEvents(&e, r.EventStatements)
	recordResult(st, r)
	line := resultLog(st)
	logs := append(append(r.EventLogs, line), r.Notes...)
	if r.Shadow != nil && e.Shadow != nil {
		e.Shadow = mergeShadow(*e.Shadow, *r.Shadow)
	}
	if r.Decision != nil && !e.RollbackRequested {
		logs = append(logs, decideRollback(&e, *r.Decision))
	}
	logs = append(logs, afterResult(&e, st, line.Message, r.At)...)
	if CanEnd(e, r.At) {
		status, msg := Outcome(e)
		logs = append(logs, end(&e, status, msg, r.At)) // the last step: no need for another entry
	}
	s.put(e, logs...)
	return nil
}

func recordResult(st *domain.Step, r StepResultRequest) {
	st.Status, st.Error, st.CompletedAt = r.Status, r.Error, r.At
	st.AlreadyApplied, st.Transactional, st.Retries = r.AlreadyApplied, r.Transactional, r.Retries
	if len(r.Statements) > 0 || !st.Transactional {
		st.Statements = mergeStatements(st.Statements, r.Statements)
	}
	st.RowsAffected = 0
	for _, x := range st.Statements {
		st.RowsAffected += x.RowsAffected
	}
	if r.Replay != nil {
		st.Replay = r.Replay
	}
}

// afterResult opens the step's monitor window when it changed the database,
// or records the failure of a forward step and asks for a rollback.
func afterResult(e *domain.Execution, st *domain.Step, msg string, at time.Time) []domain.LogEntry {
	changes := st.Kind == domain.StepApply || st.Kind == domain.StepSwitch
	switch {
	case st.Direction != domain.Forward:
	case st.Status == domain.StepSucceeded && changes && !e.DryRun && e.Monitoring.MonitorWindowSeconds > 0 && !e.RollbackRequested:
		e.MonitorUntil = at.Add(time.Duration(e.Monitoring.MonitorWindowSeconds) * time.Second)
		e.CurrentPhase = st.Phase + " (monitor window)"
		return []domain.LogEntry{watchLine(e, st, at)}
	case st.Status != domain.StepSucceeded:
		e.Error, e.ErrorMessage = st.Error, msg
		if !e.DryRun && !e.RollbackRequested {
			e.RollbackRequested, e.RollbackReason, e.RollbackRequestedBy = true, msg, "hotswap (automatic)"
		}
	}
	return nil
}

func resultLog(st *domain.Step) domain.LogEntry {
	took := st.CompletedAt.Sub(st.StartedAt).Round(time.Millisecond)
	where := st.Agent + "/" + st.InstanceID
	e := domain.LogEntry{Time: st.CompletedAt, Level: "info", StepID: st.StepID}
	switch st.Status {
	case domain.StepSucceeded:
		e.Message = fmt.Sprintf("step %s (%s) succeeded on %s in %s: %d statement(s), %d lock retr(ies)",
			st.StepID, st.Direction, where, took, len(st.Statements), st.Retries)
		if st.AlreadyApplied {
			e.Message = fmt.Sprintf("step %s (%s) was already applied on %s (found in its history table); not run again",
				st.StepID, st.Direction, where)
		}
	case domain.StepCancelled:
		e.Level, e.Message = "warn", fmt.Sprintf("step %s (%s) cancelled on %s after %s", st.StepID, st.Direction, where, took)
	default:
		e.Level = "error"
		e.Message = fmt.Sprintf("step %s (%s) failed on %s: %s", st.StepID, st.Direction, where, describe(st.Error))
		if st.Error != nil {
			e.Statement = st.Error.Statement
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
func mergeStatements(cur, add []domain.StatementResult) []domain.StatementResult {
	for _, d := range add {
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

// applyStepEvents keeps progress reports: the log lines always, the
// statements only on steps still running (a late report changes no result).
func (s *State) applyStepEvents(r StepEventsRequest) error {
	e, err := s.mutable(r.ExecutionID)
	if err != nil {
		return err
	}
	mergeEvents(&e, r.Statements)
	s.put(e, r.Logs...)
	return nil
}

// mergeEvents adds the statements steps reported done, by step id, to the
// steps still running.
func mergeEvents(e *domain.Execution, statements map[string][]domain.StatementResult) {
	for id, done := range statements {
		if st, ok := e.Step(id); ok && st.Status == domain.StepRunning {
			st.Statements = mergeStatements(st.Statements, done)
		}
	}
}

func (s *State) applyCancelPendingSteps(r CancelPendingStepsRequest) error {
	e, err := s.mutable(r.ExecutionID)
	if err != nil {
		return err
	}
	if e.Status.Terminal() {
		return conflict("execution %s is %s", e.ExecutionID, e.Status)
	}
	n := 0
	for i := range e.Steps {
		if e.Steps[i].Status == domain.StepPending {
			e.Steps[i].Status = domain.StepCancelled
			n++
		}
	}
	if n == 0 {
		return conflict("execution %s has no step left to cancel", e.ExecutionID)
	}
	s.put(e, logAt(r.At, "warn", "%s: %d step(s) not started", r.Reason, n))
	return nil
}

// mergeShadow takes into a Shadow rollout's record what one step found: the
// workload a capture step captured, the measurements of a replay step and
// the verdict of the second. What the result leaves empty stays as it was,
// so a result computed from an older copy of the execution never erases
// what an earlier step recorded.
func mergeShadow(cur, got domain.ShadowRun) *domain.ShadowRun {
	if len(got.Workload) > 0 {
		cur.Workload = got.Workload
	}
	if got.Before != nil {
		cur.Before = got.Before
	}
	if got.After != nil {
		cur.After, cur.Verdict, cur.Passed = got.After, got.Verdict, got.Passed
	}
	return &cur
}
