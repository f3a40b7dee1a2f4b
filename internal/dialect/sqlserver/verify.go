package sqlserver

import (
	"context"
	"errors"
	"fmt"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/verifypoll"
	"github.com/hotswap-db/hotswap/internal/domain"
)

var _ dialect.Verifier = (*Conn)(nil)

// errNotSecondary is a verify step sent to a writable database outside an
// availability group's secondaries.
var errNotSecondary = errors.New("sqlserver: verify steps are for read-only copies (availability group secondaries, " +
	"log shipping standbys): this database is writable")

// VerifyStep waits, following the dialect.Verifier contract, until the
// secondary shows the step's history row (redone from the primary's log)
// and its lag (estimated from the redo queue) is within bounds. It needs a
// readable secondary (ALLOW_CONNECTIONS = ALL or READ_ONLY with
// ApplicationIntent=ReadOnly in the DSN) and writes nothing. On a log
// shipping standby (STANDBY mode) or another read-only copy the history
// row is checked and the lag bound is not: the server does not know it.
func (c *Conn) VerifyStep(ctx context.Context, req dialect.VerifyRequest, events func(dialect.StepEvent)) (dialect.StepOutcome, error) {
	emit := func(level, msg string) {
		if events != nil {
			events(dialect.StepEvent{Level: level, Message: c.scrubText(msg)})
		}
	}
	out, err := verifypoll.Run(ctx, req, func(ctx context.Context) (verifypoll.Observation, error) {
		return c.lookAtSecondary(ctx, req)
	}, emit, c.scrubText)
	if err != nil {
		return out, c.scrub(fmt.Errorf("verify step %s on %s: %w", req.StepID, c.target, err))
	}
	return out, nil
}

// lookAtSecondary is one look: is the history row there, and the lag.
func (c *Conn) lookAtSecondary(ctx context.Context, req dialect.VerifyRequest) (verifypoll.Observation, error) {
	conn, err := c.session(ctx)
	if err != nil {
		return verifypoll.Observation{}, err
	}
	defer conn.Close()
	obs, err := secondaryLag(ctx, conn)
	if err != nil {
		return verifypoll.Observation{}, err
	}
	arrived, err := historyRowVisible(ctx, conn, req.ExecutionID, req.StepID)
	if err != nil {
		return verifypoll.Observation{}, err
	}
	switch {
	case !arrived:
		obs.Missing = "its history row is not there yet"
	case req.MaxLagSeconds > 0 && obs.LagSeconds > req.MaxLagSeconds:
		obs.Missing = fmt.Sprintf("redo lag (estimated) %.1f s over the bound of %g s", obs.LagSeconds, req.MaxLagSeconds)
	default:
		obs.Arrived = true
	}
	return obs, nil
}

// historyRowVisible reports whether the step's history row is there; no
// history table yet means no.
func historyRowVisible(ctx context.Context, q queryer, executionID, stepID string) (bool, error) {
	ok, err := historyExists(ctx, q)
	if err != nil || !ok {
		return false, err
	}
	var n int
	if err := q.QueryRowContext(ctx, historyRowSQL, executionID, stepID).Scan(&n); err != nil {
		return false, fmt.Errorf("read history: %w", err)
	}
	return n > 0, nil
}

// secondaryLag reads the copy's lag: an availability group secondary's
// estimate, 0 on another read-only copy; a writable database is refused.
func secondaryLag(ctx context.Context, q queryer) (verifypoll.Observation, error) {
	f, err := readServerFacts(ctx, q)
	if err != nil {
		return verifypoll.Observation{}, err
	}
	ag, err := readAGState(ctx, q)
	if err != nil {
		return verifypoll.Observation{}, err
	}
	if detectRole(f, ag) != domain.DetectedStandby {
		return verifypoll.Observation{}, errNotSecondary
	}
	var obs verifypoll.Observation
	if !ag.inGroup {
		return obs, nil
	}
	links, err := readReplicaLinks(ctx, q, ag)
	if err != nil {
		return verifypoll.Observation{}, err
	}
	for _, l := range links {
		obs.LagSeconds = max(obs.LagSeconds, l.LagSeconds)
	}
	return obs, nil
}
