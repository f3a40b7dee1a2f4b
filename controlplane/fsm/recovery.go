package fsm

import (
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// Recovering from a failed rollback: the operator fixes the cause and
// retries the rollback, or puts the database right by hand and marks the
// execution resolved. Both are logged with who did it.

// RetryRollbackRequest runs the failed or cancelled rollback steps of a
// Failed execution again. The execution takes its database's lock again,
// with a new fencing token (this entry's index).
type RetryRollbackRequest struct {
	ExecutionID string
	By          string
	Reason      string `json:",omitempty"`
	At          time.Time
}

// ResolveExecutionRequest marks a Failed execution resolved by hand.
type ResolveExecutionRequest struct {
	ExecutionID string
	By          string
	Reason      string
	At          time.Time
}

// Type implements Command.
func (RetryRollbackRequest) Type() MessageType { return RetryRollbackType }

// Type implements Command.
func (ResolveExecutionRequest) Type() MessageType { return ResolveExecutionType }

func (s *State) applyRetryRollback(r RetryRollbackRequest) error {
	e, err := s.mutable(r.ExecutionID)
	if err != nil {
		return err
	}
	switch {
	case e.Status != domain.ExecutionFailed || !e.RollingBack || !anyFailed(e.Steps, domain.Rollback):
		return conflict("execution %s is %s: only a Failed execution whose rollback failed can retry its rollback", e.ExecutionID, e.Status)
	case e.Resolution != nil:
		return conflict("execution %s was marked resolved by %s", e.ExecutionID, e.Resolution.By)
	}
	if holder, held := s.lockHolderLocked(e.DatabaseID); held {
		return conflict("database lock is held by execution %s", holder.ExecutionID)
	}
	n := 0
	for i := range e.Steps {
		st := &e.Steps[i]
		if st.Direction == domain.Rollback && (st.Status == domain.StepFailed || st.Status == domain.StepCancelled) {
			st.Status, st.Error, st.StartedAt, st.CompletedAt = domain.StepPending, nil, time.Time{}, time.Time{}
			n++
		}
	}
	e.Status, e.CompletedAt, e.FencingToken, e.CurrentPhase = domain.ExecutionRunning, time.Time{}, s.index, "rollback"
	e.ErrorMessage = strings.TrimSuffix(strings.TrimSuffix(e.ErrorMessage, rollbackFailedMessage), "; ")
	s.setMigrationStatus(e, domain.MigrationInProgress)
	line := logAt(r.At, "warn", "rollback retried by %s: %d step(s) run again", r.By, n)
	if r.Reason != "" {
		line.Message += ": " + r.Reason
	}
	s.put(e, line)
	return nil
}

func (s *State) applyResolveExecution(r ResolveExecutionRequest) error {
	e, err := s.mutable(r.ExecutionID)
	if err != nil {
		return err
	}
	switch {
	case e.Status != domain.ExecutionFailed:
		return conflict("execution %s is %s: only a Failed execution can be marked resolved", e.ExecutionID, e.Status)
	case e.Resolution != nil:
		return conflict("execution %s was already marked resolved by %s", e.ExecutionID, e.Resolution.By)
	}
	e.Resolution = &domain.Resolution{By: r.By, Reason: r.Reason, At: r.At}
	s.put(e, logAt(r.At, "warn", "marked resolved by hand by %s: %s", r.By, r.Reason))
	return nil
}
