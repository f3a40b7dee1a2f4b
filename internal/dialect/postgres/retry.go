package postgres

import (
	"context"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect/lockwait"
)

// withLockRetries runs attempt under the lock-retry policy of package
// lockwait, so that the DDL never waits in the lock queue longer than one
// lock timeout and the application never waits behind it longer either.
// PostgreSQL's hooks: a lock timeout is SQLSTATE 55P03; the blockers of the
// DDL session come from pg_blocking_pids, sampled on pooled sessions; the
// long holders of what the statements need are the sessions holding a
// conflicting lock on a target in pg_locks or, for a CONCURRENTLY command,
// a snapshot; a transaction has ended when its (pid, xact_start) is gone
// from pg_stat_activity. The holders' states, statement ages and usual
// times (pg_stat_activity.query_id, pg_stat_statements) let the policy pick
// its moment to enter the lock queue (lockwait.Queue).
func (r *stepRun) withLockRetries(ctx context.Context, needs lockNeeds, attempt func(ctx context.Context, n int) error) error {
	p := &lockwait.Policy{
		Session:     lockSession{r: r},
		LockTimeout: r.req.LockTimeout,
		Deadline:    r.req.Deadline,
		TimeoutCode: sqlstateLockNotAvailable,
		SessionNoun: "pid",
		Emit:        r.emit,

		FailNeverFree:  r.req.LockPolicy.FailsWhenNeverFree(),
		TerminateAfter: r.req.LockPolicy.TerminateAfter(),
	}
	configured := r.req.LockTimeout
	defer func() { r.req.LockTimeout = configured }()
	retries, err := p.Run(ctx, stepNeeds{r: r, needs: needs}, func(ctx context.Context, n int) error {
		// The attempt sets the lock timeout the policy chose for it.
		r.req.LockTimeout = lockwait.AttemptLockTimeout(ctx, configured)
		return attempt(ctx, n)
	})
	r.out.Retries += retries
	return err
}

// lockSession is the step's session, as lockwait.Session.
type lockSession struct{ r *stepRun }

// IsLockTimeout reports whether err is PostgreSQL's lock_timeout.
func (s lockSession) IsLockTimeout(err error) bool { return isLockTimeout(err) }

// Blockers lists the transactions blocking the step's backend now.
func (s lockSession) Blockers(ctx context.Context) ([]lockwait.Blocker, error) {
	return s.r.c.blockersOf(ctx, s.r.pid)
}

// Ended reports whether the blockers' transactions have all ended, asked
// on the step's own session (idle between attempts).
func (s lockSession) Ended(ctx context.Context, bs []lockwait.Blocker) (bool, error) {
	return transactionsEnded(ctx, s.r.conn, bs)
}

// stepNeeds is what a group of statements needs, as lockwait.Needs.
type stepNeeds struct {
	r     *stepRun
	needs lockNeeds
}

// Holders lists the long holders of what the statements need.
func (n stepNeeds) Holders(ctx context.Context, minAge time.Duration) ([]lockwait.Blocker, error) {
	return longHolders(ctx, n.r.conn, n.needs, minAge)
}

// Contention lists who holds what the statements need and how many queue
// for it, with the holders' usual statement times: with it the policy
// picks its moment to enter the lock queue.
func (n stepNeeds) Contention(ctx context.Context) (lockwait.Contention, error) {
	ctx, cancel := context.WithTimeout(ctx, blockersQueryTimeout)
	defer cancel()
	return contention(ctx, n.r.conn, n.needs)
}

// CanProbe reports whether the first attempt may ask for the step's
// table locks without waiting (probe.go): only a transactional step, once
// readAhead has seen its tables.
func (n stepNeeds) CanProbe() bool { return n.r.canProbe }

// SQL is the statement to blame.
func (n stepNeeds) SQL() string { return n.needs.firstSQL() }
