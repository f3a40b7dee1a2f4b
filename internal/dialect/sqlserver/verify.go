package sqlserver

import (
	"context"
	"errors"
	"fmt"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/verifypoll"
)

var _ dialect.Verifier = (*Conn)(nil)

// errNotSecondary is a verify step sent to a database that is not an
// availability group's secondary.
var errNotSecondary = errors.New("sqlserver: verify steps are for availability group secondaries: this database is not one")

// VerifyStep waits, following the dialect.Verifier contract, until the
// secondary shows the step's history row (redone from the primary's log)
// and its lag (estimated from the redo queue) is within bounds. It needs a
// readable secondary (ALLOW_CONNECTIONS = ALL or READ_ONLY with
// ApplicationIntent=ReadOnly in the DSN) and writes nothing.
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
	ag, err := readAGState(ctx, conn)
	if err != nil {
		return verifypoll.Observation{}, err
	}
	if !ag.inGroup || ag.role != "SECONDARY" {
		return verifypoll.Observation{}, errNotSecondary
	}
	links, err := readReplicaLinks(ctx, conn, ag)
	if err != nil {
		return verifypoll.Observation{}, err
	}
	var obs verifypoll.Observation
	for _, l := range links {
		obs.LagSeconds = max(obs.LagSeconds, l.LagSeconds)
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
