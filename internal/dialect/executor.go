package dialect

import (
	"context"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// StepRequest is one script to apply on one instance, as the control plane
// sends it to the agent.
type StepRequest struct {
	ExecutionID   string
	StepID        string
	MigrationID   string
	MigrationName string
	Direction     domain.Direction
	Script        string
	// Checksum is the hex SHA-256 of Script.
	Checksum string
	// FencingToken is the Raft index at which the execution took its
	// database's lock. A request whose token is older than one already
	// recorded in the instance's history is refused (ErrStaleToken).
	FencingToken uint64
	AppliedBy    string
	// LockTimeout bounds each wait in the lock queue (default 500ms).
	LockTimeout time.Duration
	// StatementTimeout bounds each statement; zero means until Deadline.
	StatementTimeout time.Duration
	// Deadline is the execution's timeout: lock retries stop there.
	Deadline time.Time
	// DryRun checks the script without applying it (see Executor).
	DryRun bool
	// Reverts, on a rollback step, is the forward step it undoes. An
	// engine that knows which of its statements completed undoes only
	// those: a rollback statement for an object the forward script never
	// created is skipped with an event, not failed. Nil: run Script whole.
	Reverts *RevertedStep
	// Local keeps the change on this instance only, for engines whose
	// replicas take the change themselves in a rolling schema change
	// (MySQL/MariaDB: sql_log_bin=0). Engines without one ignore it.
	Local bool
	// LockPolicy is the migration's: what to do when the tables are never
	// free for long enough, and whether to terminate old blockers (an
	// engine that cannot terminate says so in the step's events).
	LockPolicy domain.LockPolicy
}

// RevertedStep is the forward step a rollback step undoes.
type RevertedStep struct {
	StepID string
	// Script is the forward step's script.
	Script string
}

// StepEvent is something worth telling the operator while a step runs: a
// lock retry, a statement done, a cleanup.
type StepEvent struct {
	Time      time.Time
	Level     string // info, warn, error
	Message   string
	Statement string
	// Done, when set, is a statement that has just completed.
	Done *domain.StatementResult
}

// StepOutcome is how a step ended.
type StepOutcome struct {
	// AlreadyApplied is true when the instance's history shows this step
	// was applied before (a re-delivery): nothing was run.
	AlreadyApplied bool
	// Transactional is true when the whole script ran in one transaction.
	Transactional bool
	Statements    []domain.StatementResult
	// Retries counts lock-timeout retries over all statements.
	Retries int
	// Error is the database's error when the step failed; nil on success.
	Error *domain.DBError
}

// HistoryRow is one applied step recorded in the instance's history table.
type HistoryRow = domain.HistoryRow

// Executor applies migration steps on one instance. The contract:
//
//   - ExecuteStep applies req.Script exactly once per (ExecutionID, StepID):
//     it first looks the step up in the instance's history table and, when
//     found, returns AlreadyApplied without running anything.
//   - When every statement may run in a transaction, the whole script and
//     its history row commit together. Otherwise statements run one by one,
//     each completed statement is recorded so a re-delivered step resumes
//     after the last one done, and the history row is written at the end.
//   - Every statement runs with the lock timeout; a lock timeout is retried
//     with backoff and jitter until req.Deadline, each attempt reported as a
//     StepEvent. The application never waits behind the DDL longer than one
//     lock timeout.
//   - Cancelling ctx cancels the running statement in the database.
//   - A database error ends the step with Outcome.Error set and a nil error;
//     the returned error is for everything else (unreachable, stale token).
//   - A dry run (req.DryRun) changes nothing the application can see and
//     writes no history: an engine with transactional DDL runs the script
//     in a transaction that it rolls back; a statement that cannot run in
//     one, or every statement on an engine without transactional DDL, is
//     not executed but checked against the catalog instead (the objects it
//     alters exist, the names it creates are free, as far as the engine
//     can tell). Each statement not executed is reported in a StepEvent
//     that says it was checked rather than run; a failed check ends the
//     step with Outcome.Error like a failed statement. The fencing token
//     is checked when a history exists; a dry run creates none.
//   - Messages never contain a DSN or a password.
type Executor interface {
	ExecuteStep(ctx context.Context, req StepRequest, events func(StepEvent)) (StepOutcome, error)
	// History returns the instance's history rows, oldest first.
	History(ctx context.Context) ([]HistoryRow, error)
}

// VerifyRequest asks a physical standby whether a step applied on its
// primary has arrived.
type VerifyRequest struct {
	// ExecutionID and StepID name the verified step: the step applied on the
	// primary, whose history row the standby must show.
	ExecutionID, StepID string
	// Deadline is when the verifier gives up waiting; zero means until ctx
	// ends. The standby is checked at least once, even past the deadline.
	Deadline time.Time
	// MaxLagSeconds bounds the standby's replay lag once the row is there;
	// 0 means no bound.
	MaxLagSeconds float64
}

// Verifier checks, on a read-only standby, that a step applied on the
// primary has been replayed: its history row is visible and replay lag is
// within bounds. It runs nothing that writes. The contract:
//
//   - VerifyStep polls the standby until both hold, reporting as StepEvents
//     that it waits, why it still waits (every few seconds), and when the
//     step has arrived.
//   - When req.Deadline passes first, the step ends with Outcome.Error set
//     (empty SQLState: nothing failed in the database) and a nil error.
//   - Called on a primary it returns an error: verify steps are for
//     standbys. Cancelling ctx returns ctx.Err() wrapped.
type Verifier interface {
	VerifyStep(ctx context.Context, req VerifyRequest, events func(StepEvent)) (StepOutcome, error)
}
