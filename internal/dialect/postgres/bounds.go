package postgres

import (
	"context"
	"fmt"
	"time"
)

// The server-side bounds of a step's session. They hold when the agent
// cannot act: an agent frozen (SIGSTOP) or dead (kill -9) between two
// statements of a transaction leaves its session idle in transaction,
// holding every lock the DDL took, and PostgreSQL alone can end it.
const (
	// maxIdleInTransaction bounds how long a step's session may sit idle
	// inside a transaction: between two statements the agent only writes
	// its history row, so a few seconds idle means the agent is gone.
	maxIdleInTransaction = 3 * time.Second
	// connectionCheckInterval is how often a running statement checks that
	// the agent's socket is still open (PostgreSQL 14 and later), so the
	// statement of an agent that died is cancelled, not finished.
	connectionCheckInterval = time.Second
	// minIdleInTransaction keeps a step near or past its deadline able to
	// run its history checks: the bound is never shorter than this.
	minIdleInTransaction = time.Second
	// pgVersionConnectionCheck is the first version with
	// client_connection_check_interval.
	pgVersionConnectionCheck = 140000
)

// untilDeadline is the time left until deadline, at least a millisecond,
// or 0 (no bound) when there is no deadline.
func untilDeadline(deadline time.Time) time.Duration {
	if deadline.IsZero() {
		return 0
	}
	return max(time.Until(deadline), time.Millisecond)
}

// idleInTransactionTimeout is maxIdleInTransaction, shorter when the
// deadline is nearer, never under minIdleInTransaction.
func idleInTransactionTimeout(deadline time.Time) time.Duration {
	if left := untilDeadline(deadline); left > 0 {
		return max(min(left, maxIdleInTransaction), minIdleInTransaction)
	}
	return maxIdleInTransaction
}

// setBounds gives the step's session, for the whole step, the bounds that
// hold without the agent: idle_in_transaction_session_timeout and
// client_connection_check_interval (PostgreSQL 14 and later). Each attempt
// then sets statement_timeout up to the deadline and the idle bound afresh
// (openTx, setSessionTimeouts); close's RESET ALL removes them all.
func (r *stepRun) setBounds(ctx context.Context, q execQuerier) error {
	const sql = `SELECT set_config('idle_in_transaction_session_timeout', $1, false)`
	if _, err := q.Exec(ctx, sql, pgDuration(idleInTransactionTimeout(r.req.Deadline))); err != nil {
		return fmt.Errorf("set idle_in_transaction_session_timeout: %w", err)
	}
	if r.version >= pgVersionConnectionCheck {
		const sql = `SELECT set_config('client_connection_check_interval', $1, false)`
		if _, err := q.Exec(ctx, sql, pgDuration(connectionCheckInterval)); err != nil {
			return fmt.Errorf("set client_connection_check_interval: %w", err)
		}
	}
	return nil
}
