package oracle

import (
	"context"
	"errors"
	"fmt"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/verifypoll"
)

var _ dialect.Verifier = (*Conn)(nil)

// errNotStandby is a verify step sent to a primary.
var errNotStandby = errors.New("oracle: verify steps are for standbys: this database's role is PRIMARY")

// historyRowSQL counts a step's history rows.
const historyRowSQL = `SELECT COUNT(*) FROM hotswap.schema_history WHERE execution_id = :1 AND step_id = :2`

// VerifyStep waits, following the dialect.Verifier contract, until the
// standby shows the step's history row (shipped from the primary in the
// redo) and its apply lag (v$dataguard_stats) is within bounds. The row
// can only be read on a standby open read only (Active Data Guard); a
// mounted standby is reported as such until the deadline. It writes
// nothing.
func (c *Conn) VerifyStep(ctx context.Context, req dialect.VerifyRequest, events func(dialect.StepEvent)) (dialect.StepOutcome, error) {
	emit := func(level, msg string) {
		if events != nil {
			events(dialect.StepEvent{Level: level, Message: c.scrubText(msg)})
		}
	}
	out, err := verifypoll.Run(ctx, req, func(ctx context.Context) (verifypoll.Observation, error) {
		return c.lookAtStandby(ctx, req)
	}, emit, c.scrubText)
	if err != nil {
		return out, c.scrub(fmt.Errorf("verify step %s on %s: %w", req.StepID, c.target, err))
	}
	return out, nil
}

// lookAtStandby is one look: the role, the history row, the lag.
func (c *Conn) lookAtStandby(ctx context.Context, req dialect.VerifyRequest) (verifypoll.Observation, error) {
	conn, err := c.session(ctx)
	if err != nil {
		return verifypoll.Observation{}, err
	}
	defer conn.Close()
	d, err := readDatabase(ctx, conn)
	if err != nil {
		return verifypoll.Observation{}, err
	}
	if !d.standby() {
		return verifypoll.Observation{}, errNotStandby
	}
	var obs verifypoll.Observation
	if obs.LagSeconds, err = readApplyLag(ctx, conn); err != nil {
		return obs, err
	}
	if d.openMode == "MOUNTED" {
		obs.Missing = "the standby is mounted, not open read only: its history table cannot be read (Active Data Guard opens it READ ONLY WITH APPLY)"
		return obs, nil
	}
	var n int
	err = conn.QueryRowContext(ctx, historyRowSQL, req.ExecutionID, req.StepID).Scan(&n)
	if code, _ := oraCode(err); err != nil && code != oraNoSuchTable {
		return obs, fmt.Errorf("read history: %w", err)
	}
	switch {
	case n == 0:
		obs.Missing = "its history row is not there yet"
	case req.MaxLagSeconds > 0 && obs.LagSeconds > req.MaxLagSeconds:
		obs.Missing = fmt.Sprintf("apply lag %.1f s over the bound of %g s", obs.LagSeconds, req.MaxLagSeconds)
	default:
		obs.Arrived = true
	}
	return obs, nil
}
