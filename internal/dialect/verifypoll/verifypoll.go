// Package verifypoll is the polling policy of every engine's Verifier: it
// looks at a standby, through the engine's hook, until the step it verifies
// has arrived or the deadline passes, and reports the wait as events, as
// the dialect.Verifier contract asks.
package verifypoll

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/domain"
)

const (
	// PollInterval is the pause between two looks at the standby.
	PollInterval = 100 * time.Millisecond
	// WarnEvery is how often a wait that goes on is reported.
	WarnEvery = 5 * time.Second
)

// Observation is what one look at the standby found.
type Observation struct {
	// Arrived: the step's history row is visible and the replay lag is
	// within the request's bound.
	Arrived bool
	// LagSeconds is the standby's replay lag.
	LagSeconds float64
	// Missing says what the standby lacks, for warnings and the timeout's
	// message.
	Missing string
}

// Look is the engine's hook: one bounded look at the standby. A
// *dialect.StatementError ends the step in its outcome; any other error
// (the instance is not a standby, it cannot be reached) is returned.
type Look func(ctx context.Context) (Observation, error)

// Run polls with look every PollInterval until the step req names has
// arrived or req.Deadline passes, and reports with emit: once when the wait
// starts, every WarnEvery while it goes on, and on arrival or timeout. The
// timeout's outcome message goes through scrub.
func Run(ctx context.Context, req dialect.VerifyRequest, look Look, emit func(level, msg string), scrub func(string) string) (dialect.StepOutcome, error) {
	started := time.Now()
	waited := func() time.Duration { return time.Since(started).Round(time.Millisecond) }
	emit("info", fmt.Sprintf("waiting for step %s of execution %s to arrive on the standby: its history row visible%s",
		req.StepID, req.ExecutionID, LagBound(req, " and replay lag at most %g s")))
	lastWarn := started
	for {
		obs, err := look(ctx)
		var se *dialect.StatementError
		switch {
		case errors.As(err, &se):
			emit("error", se.DB.Message)
			return dialect.StepOutcome{Error: &se.DB}, nil
		case err != nil:
			return dialect.StepOutcome{}, err
		case obs.Arrived:
			emit("info", fmt.Sprintf("step %s arrived on the standby after %s; replay lag %.1f s", req.StepID, waited(), obs.LagSeconds))
			return dialect.StepOutcome{}, nil
		case pastDeadline(req):
			msg := fmt.Sprintf("step %s did not arrive on the standby within %s: %s", req.StepID, waited(), obs.Missing)
			emit("error", msg)
			return dialect.StepOutcome{Error: &domain.DBError{Message: scrub(msg)}}, nil
		case time.Since(lastWarn) >= WarnEvery:
			lastWarn = time.Now()
			emit("warn", fmt.Sprintf("step %s not on the standby yet after %s: %s", req.StepID, waited(), obs.Missing))
		}
		if err := sleep(ctx, req); err != nil {
			return dialect.StepOutcome{}, err
		}
	}
}

// LagBound formats the request's lag bound with format, or "" without one.
func LagBound(req dialect.VerifyRequest, format string) string {
	if req.MaxLagSeconds <= 0 {
		return ""
	}
	return fmt.Sprintf(format, req.MaxLagSeconds)
}

// pastDeadline reports whether the deadline, if any, has passed.
func pastDeadline(req dialect.VerifyRequest) bool {
	return !req.Deadline.IsZero() && !time.Now().Before(req.Deadline)
}

// sleep waits one poll interval, cut short by the deadline, or until ctx ends.
func sleep(ctx context.Context, req dialect.VerifyRequest) error {
	d := PollInterval
	if !req.Deadline.IsZero() {
		d = max(min(d, time.Until(req.Deadline)), 0)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
