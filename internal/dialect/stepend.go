package dialect

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// ErrAlreadyApplied means the step is in the instance's history already:
// a re-delivery, which FinishStep answers with StepOutcome.AlreadyApplied.
var ErrAlreadyApplied = errors.New("dialect: step already applied")

// The levels of a StepEvent.
const (
	LevelInfo  = "info"
	LevelWarn  = "warn"
	LevelError = "error"
)

// StepReport delivers one step's events to the executor's caller, stamped
// with the time and scrubbed of the instance's secrets.
type StepReport struct {
	Events func(StepEvent)     // nil: events are dropped
	Scrub  func(string) string // removes the instance's secrets from text
}

// Emit sends an event with a message and the statement it is about.
func (r StepReport) Emit(level, msg, sql string) {
	r.Send(StepEvent{Level: level, Message: msg, Statement: sql})
}

// Send stamps, scrubs and delivers e.
func (r StepReport) Send(e StepEvent) {
	if r.Events == nil {
		return
	}
	e.Time = time.Now().UTC()
	e.Message = r.Scrub(e.Message)
	e.Statement = r.Scrub(e.Statement)
	r.Events(e)
}

// StepEnd is what an executor knows once its step's run returned.
type StepEnd struct {
	StepID string
	Target string // the instance, for an error's message
	// Outcome is what the run recorded so far.
	Outcome StepOutcome
	// AppliedDespiteCancel reports whether the step is in the history
	// after the caller's context ended (the cancel came too late).
	AppliedDespiteCancel func() bool
	// ScrubErr removes the instance's secrets from an error.
	ScrubErr func(error) error
}

// FinishStep turns the error a step's run returned into the Executor
// contract's answer: a cancel that came after the step was applied is a
// success, any other cancel the context's error; ErrAlreadyApplied an
// AlreadyApplied outcome; a StatementError the outcome's Error (scrubbed,
// DETAIL and HINT kept); ErrStaleToken itself; anything else (a lost
// connection) an error naming the step and the instance.
func FinishStep(ctx context.Context, err error, end StepEnd, report StepReport) (StepOutcome, error) {
	out := end.Outcome
	var se *StatementError
	switch {
	case ctx.Err() != nil && end.AppliedDespiteCancel():
		report.Emit(LevelWarn, "the cancel came after the step completed: it is applied", "")
		return out, nil
	case ctx.Err() != nil:
		return out, fmt.Errorf("execute step %s: %w", end.StepID, ctx.Err())
	case err == nil:
		return out, nil
	case errors.Is(err, ErrAlreadyApplied):
		report.Emit(LevelInfo, "step found in the instance's history: already applied, nothing run", "")
		return StepOutcome{AlreadyApplied: true, Transactional: out.Transactional}, nil
	case errors.As(err, &se):
		out.Error = &domain.DBError{
			Message: report.Scrub(se.DB.Message), SQLState: se.DB.SQLState, Statement: report.Scrub(se.SQL),
			Detail: report.Scrub(se.DB.Detail), Hint: report.Scrub(se.DB.Hint),
		}
		report.Emit(LevelError, WithDetail(*out.Error), se.SQL)
		return out, nil
	case errors.Is(err, ErrStaleToken):
		// Built from IDs and numbers only: nothing to scrub.
		return out, err
	}
	return out, end.ScrubErr(fmt.Errorf("execute step %s on %s: %w", end.StepID, end.Target, err))
}

// WithDetail is the database's message followed by its DETAIL and HINT,
// when it gave them.
func WithDetail(e domain.DBError) string {
	msg := e.Message
	if e.Detail != "" {
		msg += "; detail: " + e.Detail
	}
	if e.Hint != "" {
		msg += "; hint: " + e.Hint
	}
	return msg
}
