package mysql

import (
	"context"
	"errors"
	"fmt"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/verifypoll"
)

var _ dialect.Verifier = (*Conn)(nil)

// errNotReplica is a verify step sent to a server without a replication
// channel.
var errNotReplica = errors.New("mysql: verify steps are for replicas: this server has no replication channel")

// VerifyStep waits, following the dialect.Verifier contract, until the
// replica shows the step's history row (replicated from the primary
// through the binary log) and its lag (Seconds_Behind_Master) is within
// bounds. It writes nothing.
func (c *Conn) VerifyStep(ctx context.Context, req dialect.VerifyRequest, events func(dialect.StepEvent)) (dialect.StepOutcome, error) {
	emit := func(level, msg string) {
		if events != nil {
			events(dialect.StepEvent{Level: level, Message: c.scrubText(msg)})
		}
	}
	out, err := verifypoll.Run(ctx, req, func(ctx context.Context) (verifypoll.Observation, error) {
		return c.lookAtReplica(ctx, req)
	}, emit, c.scrubText)
	if err != nil {
		return out, c.scrub(fmt.Errorf("verify step %s on %s: %w", req.StepID, c.target, err))
	}
	return out, nil
}

// lookAtReplica is one look: is the history row there, and the lag.
func (c *Conn) lookAtReplica(ctx context.Context, req dialect.VerifyRequest) (verifypoll.Observation, error) {
	conn, err := c.session(ctx)
	if err != nil {
		return verifypoll.Observation{}, err
	}
	defer conn.Close()
	var v serverVars
	if err := v.read(ctx, conn); err != nil {
		return verifypoll.Observation{}, err
	}
	ups, err := readReplicaStatus(ctx, conn, v.mariadb)
	if err != nil {
		return verifypoll.Observation{}, err
	}
	if len(ups) == 0 {
		return verifypoll.Observation{}, errNotReplica
	}
	var obs verifypoll.Observation
	lagKnown := true
	for _, u := range ups {
		obs.LagSeconds = max(obs.LagSeconds, u.lag)
		lagKnown = lagKnown && u.lagKnown
	}
	arrived, err := historyRowVisible(ctx, conn, req.ExecutionID, req.StepID)
	if err != nil {
		return verifypoll.Observation{}, err
	}
	switch {
	case !arrived:
		obs.Missing = "its history row is not there yet"
	case !lagKnown:
		obs.Missing = "replication is not running (Seconds_Behind_Master is NULL)"
	case req.MaxLagSeconds > 0 && obs.LagSeconds > req.MaxLagSeconds:
		obs.Missing = fmt.Sprintf("replica lag %.1f s over the bound of %g s", obs.LagSeconds, req.MaxLagSeconds)
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
	err = q.QueryRowContext(ctx, "SELECT count(*) FROM `hotswap`.`schema_history` WHERE execution_id = ? AND step_id = ?",
		executionID, stepID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read history: %w", err)
	}
	return n > 0, nil
}
