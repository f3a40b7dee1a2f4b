package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// withLockRetries runs attempt until it ends otherwise than with a lock
// timeout, so that the DDL never waits in the lock queue longer than one
// lock timeout and the application never waits behind it longer either.
//
// Before the first attempt it waits for the long transactions (open longer
// than a lock timeout) that hold a conflicting lock on a target, or a
// snapshot a CONCURRENTLY command must wait for: such a DDL would only time
// out (and a CREATE INDEX CONCURRENTLY would throw its build away). During
// each attempt a watch samples, from another session, the transactions
// that block the DDL session. After a lock timeout it waits until those
// transactions have ended, polling every 25 ms (bounded as retryWait
// says), and retries at once. Retries stop at the deadline.
func (r *stepRun) withLockRetries(ctx context.Context, needs lockNeeds, attempt func(ctx context.Context, n int) error) error {
	if err := r.waitForLongHolders(ctx, needs); err != nil {
		return err
	}
	for n := 1; ; n++ {
		watch := r.c.watchBlockers(ctx, r.pid, pollEvery(r.req.LockTimeout))
		err := attempt(ctx, n)
		blockers := watch.stop()
		if ctx.Err() != nil || !isLockTimeout(err) {
			return err
		}
		if err := r.backOff(ctx, n, blockers, needs, err); err != nil {
			return err
		}
		r.out.Retries++
	}
}

// waitForLongHolders is the pre-check before a first attempt.
func (r *stepRun) waitForLongHolders(ctx context.Context, needs lockNeeds) error {
	hs, err := longHolders(ctx, r.conn, needs, r.req.LockTimeout)
	if err != nil || len(hs) == 0 {
		return err
	}
	for _, h := range hs {
		r.emit(levelInfo, fmt.Sprintf("waiting for pid %d (transaction open %s) %s before trying",
			h.pid, h.age.Round(100*time.Millisecond), h.what()), "")
	}
	ended, err := waitTransactionsEnd(ctx, r.conn, hs, min(blockerWaitCap, r.remaining()))
	switch {
	case err != nil:
		return err
	case ended:
		r.emit(levelInfo, fmt.Sprintf("transaction of pid %s ended: trying now", pidList(hs)), "")
	case r.remaining() <= 0:
		msg := fmt.Sprintf("lock timeout: gave up at the deadline waiting for the transaction of pid %s (%s)",
			pidList(hs), hs[0].what())
		return &statementError{sql: needs.firstSQL(), db: dbFailure(msg, sqlstateLockNotAvailable)}
	default:
		r.emit(levelWarn, fmt.Sprintf("transaction of pid %s still open after %s: trying anyway, waiting at most %s for locks",
			pidList(hs), blockerWaitCap, r.req.LockTimeout), "")
	}
	return nil
}

// backOff waits after the lock timeout of attempt n, or gives up at the
// deadline. When the watch saw no blocker (a very short lock timeout), the
// current holders of what the statements need stand in for them.
func (r *stepRun) backOff(ctx context.Context, n int, blockers []holder, needs lockNeeds, cause error) error {
	if len(blockers) == 0 {
		blockers, _ = longHolders(ctx, r.conn, needs, 0)
	}
	if r.remaining() <= 0 {
		return r.giveUp(n, cause)
	}
	maxWait := min(retryWait(n, blockers), r.remaining())
	r.emit(levelWarn, retryMessage(n, maxWait, blockers), sqlOf(cause))
	ended, err := waitTransactionsEnd(ctx, r.conn, blockers, maxWait)
	if err != nil {
		return err
	}
	if ended {
		r.emit(levelInfo, fmt.Sprintf("transaction of pid %s ended: retrying now", pidList(blockers)), "")
	}
	if r.remaining() <= 0 {
		return r.giveUp(n, cause)
	}
	return nil
}

// retryWait bounds the wait before retry n. With no blocker known it is an
// exponential backoff with full jitter (50 ms doubling, capped at 5 s).
// With blockers known, the retry starts as soon as they end, and the bound
// is the cap: a retry while they live can only time out again, and each
// such retry holds the application up for one more lock timeout (measured
// with a 1.2 s blocker and 200 ms lock timeout: 1 stall of the readers
// instead of 4 or 5 with a jittered bound, same finish time).
func retryWait(n int, blockers []holder) time.Duration {
	if len(blockers) > 0 {
		return blockerWaitCap
	}
	return fullJitter(backoffCeiling(n - 1))
}

// retryMessage describes the wait after a lock timeout.
func retryMessage(n int, maxWait time.Duration, blockers []holder) string {
	wait := maxWait.Round(time.Millisecond)
	if len(blockers) == 0 {
		return fmt.Sprintf("lock timeout on attempt %d; retrying in %s", n, wait)
	}
	return fmt.Sprintf("lock timeout on attempt %d; retrying in %s at most, as soon as the transaction of pid %s ends",
		n, wait, pidList(blockers))
}

// giveUp ends the step at the deadline after n attempts.
func (r *stepRun) giveUp(n int, cause error) error {
	last := cause.Error()
	var pgErr *pgconn.PgError
	if errors.As(cause, &pgErr) {
		last = pgErr.Message
	}
	msg := fmt.Sprintf("lock timeout: gave up at the deadline after %d attempt(s), each waiting at most %s for its locks (last: %s)",
		n, r.req.LockTimeout, last)
	return &statementError{sql: sqlOf(cause), db: dbFailure(msg, sqlstateLockNotAvailable), cause: cause}
}

// sqlOf is the statement err comes from, if known.
func sqlOf(err error) string {
	var se *statementError
	if errors.As(err, &se) {
		return se.sql
	}
	return ""
}

// pidList writes the holders' PIDs as "12, 34".
func pidList(hs []holder) string {
	pids := make([]string, len(hs))
	for i, h := range hs {
		pids[i] = strconv.Itoa(int(h.pid))
	}
	return strings.Join(pids, ", ")
}
