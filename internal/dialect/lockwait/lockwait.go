// Package lockwait is the lock-retry policy every engine's executor follows
// (design invariant 4): DDL never waits in the lock queue longer than its
// lock timeout; after a lock timeout it waits, outside the queue, for the
// transactions that blocked it to end, and retries, with exponential
// backoff and full jitter when it does not know who blocked it. Retries
// stop at the step's deadline.
//
// The engine supplies the hooks (Session, Needs): is this error a lock
// timeout, who blocks the DDL session now, which long transactions hold
// what the statements need, have those transactions ended. The policy
// owns the timing, the messages and the decision to give up.
package lockwait

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
)

// Timing of the policy. The blocker watch samples often enough to see a
// blocker several times within one lock timeout; the wait for blockers to
// go polls faster still, so a retry starts within ~10 ms of the blocking
// transaction's end.
const (
	blockerPollInterval = 50 * time.Millisecond
	minBlockerPoll      = 5 * time.Millisecond
	endPollInterval     = 10 * time.Millisecond
	backoffBase         = 50 * time.Millisecond
	backoffCap          = 5 * time.Second
	// BlockerWaitCap bounds a wait for known blockers: a long report may
	// hold a table for minutes, and each retry while it lives stalls the
	// application for one more lock timeout. Past the cap the executor
	// tries again and looks for blockers anew.
	BlockerWaitCap   = 60 * time.Second
	pollQueryTimeout = time.Second
)

// Blocker is another session's open transaction in the DDL's way.
type Blocker struct {
	// Session is the engine's id of the session (a PostgreSQL pid).
	Session string
	// Started is when its transaction began: with Session it names the
	// transaction, so a session that went on to another one is not it.
	Started time.Time
	// Age is how long the transaction has been open.
	Age time.Duration
	// Holds says what it holds, for messages ("holding AccessShareLock on
	// t"); empty when unknown.
	Holds string

	// What the engine knows of its statement, for the moment picker (see
	// Queue); zero when unknown.
	State BlockerState
	// Running is how long its current statement has run.
	Running time.Duration
	// OneStatement says its transaction is that one statement: its locks
	// go when the statement ends.
	OneStatement bool
	// Typical and TypicalSD are the mean and standard deviation of its
	// statement's execution time (PostgreSQL: pg_stat_statements).
	Typical, TypicalSD time.Duration
}

// BlockerState is what a blocking session is doing.
type BlockerState int

// The states of a blocking session.
const (
	StateUnknown BlockerState = iota
	StateRunning
	StateIdleInTransaction
)

// what says what b holds, for messages.
func (b Blocker) what() string {
	if b.Holds != "" {
		return b.Holds
	}
	return "blocking the DDL"
}

// Session is the engine's hooks for the DDL's own session.
type Session interface {
	// IsLockTimeout reports whether err is the engine's lock timeout.
	IsLockTimeout(err error) bool
	// Blockers lists, from another session, the open transactions that
	// block the DDL session right now (none when it waits for no lock).
	Blockers(ctx context.Context) ([]Blocker, error)
	// Ended reports whether every transaction of bs has ended (the session
	// is gone, or in another transaction).
	Ended(ctx context.Context, bs []Blocker) (bool, error)
}

// Needs is what one group of statements will wait for.
type Needs interface {
	// Holders lists the other sessions' transactions, open longer than
	// minAge, that hold what the statements need (a conflicting lock, or a
	// snapshot a command waits for).
	Holders(ctx context.Context, minAge time.Duration) ([]Blocker, error)
	// SQL is the statement to blame when the needs are never met.
	SQL() string
}

// Policy retries the statements of one step on lock timeouts.
type Policy struct {
	Session Session
	// LockTimeout bounds each wait in the lock queue.
	LockTimeout time.Duration
	// Deadline ends the retries; zero means none.
	Deadline time.Time
	// TimeoutCode is the engine's error code of a lock timeout, given to
	// the failure that ends the step at the deadline.
	TimeoutCode string
	// SessionNoun is how messages name a session ("pid").
	SessionNoun string
	// Emit reports an event of the step.
	Emit func(level, msg, sql string)
	// FailNeverFree gives up at once, with the figures, when the moment
	// picker finds the table never free for long enough, instead of
	// waiting outside the queue until the deadline.
	FailNeverFree bool
	// TerminateAfter, above 0, lets the moment picker terminate holders
	// whose transaction is older than this (Session must implement
	// Terminator); 0 never terminates anyone.
	TerminateAfter time.Duration
}

// Run runs attempt until it ends otherwise than with a lock timeout, and
// returns how many times it retried.
//
// Before the first attempt it waits for the long transactions (open longer
// than a lock timeout) that hold what needs asks for: such a DDL would only
// time out. During each attempt a watch samples who blocks the DDL session.
// After a lock timeout it waits until those transactions have ended,
// polling every 10 ms (bounded as retryWait says), and retries at once.
// At the deadline it gives up with a *dialect.StatementError.
//
// When needs also implements Queue, the policy picks its moment instead:
// before each attempt it waits outside the queue until the holders are
// expected to be done within the lock timeout, and enters with a lock
// timeout that covers that expected time (see pickMoment); after a lock
// timeout it picks again. When needs is also a Prober, the first attempt
// asks for its locks without waiting, and the policy looks only when it
// finds them taken.
func (p *Policy) Run(ctx context.Context, needs Needs, attempt func(ctx context.Context, n int) error) (int, error) {
	if q, ok := needs.(Queue); ok {
		return p.runPicking(ctx, q, needs, attempt)
	}
	p.sayPolicyUnsupported()
	if err := p.waitForLongHolders(ctx, needs); err != nil {
		return 0, err
	}
	for n := 1; ; n++ {
		watch := p.watchBlockers(ctx, p.LockTimeout)
		err := p.traced(ctx, n, attempt)
		blockers := watch.stop()
		if ctx.Err() != nil || !p.Session.IsLockTimeout(err) {
			return n - 1, err
		}
		if err := p.backOff(ctx, n, blockers, needs, err); err != nil {
			return n - 1, err
		}
	}
}

// runPicking is Run with the moment picker. When q is also a Prober, the
// first attempt is a probe (see Prober), numbered 1 and not counted as a
// retry: it waited for nothing.
func (p *Policy) runPicking(ctx context.Context, q Queue, needs Needs, attempt func(ctx context.Context, n int) error) (int, error) {
	probed, done, err := p.probeFirst(ctx, q, attempt)
	if done {
		return 0, err
	}
	first := 1
	if probed {
		first = 2
	}
	for n := first; ; n++ {
		m, err := p.pickMoment(ctx, q, needs.SQL())
		if err != nil {
			return n - first, err
		}
		watch := p.watchBlockers(ctx, m.timeout)
		err = p.traced(context.WithValue(ctx, lockTimeoutKey{}, m.timeout), n, attempt)
		blockers := watch.stop()
		if ctx.Err() != nil || !p.Session.IsLockTimeout(err) {
			return n - first, err
		}
		if p.remaining() <= 0 {
			return n - first, p.giveUp(n, err)
		}
		p.emit("warn", p.pickAgainMessage(n, m, blockers), sqlOf(err))
	}
}

// sayPolicyUnsupported tells the operator that the migration's lock
// policy needs the moment picker, which this engine does not offer: the
// steps retry with lock timeouts and wait for long holders, terminating no
// one and never failing early on a busy table.
func (p *Policy) sayPolicyUnsupported() {
	if p.TerminateAfter > 0 {
		p.emit("warn", "the migration's policy asks to terminate old blockers, which this engine does not do: waiting for them instead", "")
	}
	if p.FailNeverFree {
		p.emit("warn", "the migration's never-free policy (fail) needs the lock-queue moment picker, which this engine does not have: "+
			"retrying with lock timeouts until the deadline", "")
	}
}

// pickAgainMessage describes a lock timeout of the moment picker's attempt.
// It names the blockers whose transaction began after the moment was
// picked (they took the table before the DDL was queued), apart from
// those that were there and ran longer than expected.
func (p *Policy) pickAgainMessage(n int, m moment, blockers []Blocker) string {
	msg := fmt.Sprintf("lock timeout on attempt %d after %s in the queue; retrying at the next moment", n, m.timeout.Round(time.Millisecond))
	if len(blockers) > 0 {
		msg += fmt.Sprintf(", or as soon as the transaction of %s %s ends", p.SessionNoun, sessionList(blockers))
	}
	var late []Blocker
	for _, b := range blockers {
		if len(AddTransaction(m.holders, b)) > len(m.holders) {
			late = append(late, b)
		}
	}
	switch {
	case m.holders == nil:
	case len(late) > 0:
		msg += fmt.Sprintf("; the transaction of %s %s began after the moment was picked, before the DDL was queued", p.SessionNoun, sessionList(late))
	default:
		msg += "; every blocker was there when the moment was picked: one ran longer than its usual time"
	}
	return msg
}

// waitForLongHolders is the pre-check before a first attempt.
func (p *Policy) waitForLongHolders(ctx context.Context, needs Needs) error {
	hs, err := needs.Holders(ctx, p.LockTimeout)
	if err != nil || len(hs) == 0 {
		return err
	}
	for _, h := range hs {
		p.emit("info", fmt.Sprintf("waiting for %s %s (transaction open %s) %s before trying",
			p.SessionNoun, h.Session, h.Age.Round(100*time.Millisecond), h.what()), "")
	}
	ended, err := p.waitEnded(ctx, hs, min(BlockerWaitCap, p.remaining()))
	switch {
	case err != nil:
		return err
	case ended:
		p.emit("info", fmt.Sprintf("transaction of %s %s ended: trying now", p.SessionNoun, sessionList(hs)), "")
	case p.remaining() <= 0:
		msg := fmt.Sprintf("lock timeout: gave up at the deadline waiting for the transaction of %s %s (%s)",
			p.SessionNoun, sessionList(hs), hs[0].what())
		return dialect.Failure(needs.SQL(), msg, p.TimeoutCode, nil)
	default:
		p.emit("warn", fmt.Sprintf("transaction of %s %s still open after %s: trying anyway, waiting at most %s for locks",
			p.SessionNoun, sessionList(hs), BlockerWaitCap, p.LockTimeout), "")
	}
	return nil
}

// backOff waits after the lock timeout of attempt n, or gives up at the
// deadline. When the watch saw no blocker (a very short lock timeout), the
// current holders of what the statements need stand in for them.
func (p *Policy) backOff(ctx context.Context, n int, blockers []Blocker, needs Needs, cause error) error {
	if len(blockers) == 0 {
		blockers, _ = needs.Holders(ctx, 0)
	}
	if p.remaining() <= 0 {
		return p.giveUp(n, cause)
	}
	maxWait := min(retryWait(n, blockers), p.remaining())
	p.emit("warn", p.retryMessage(n, maxWait, blockers), sqlOf(cause))
	ended, err := p.waitEnded(ctx, blockers, maxWait)
	if err != nil {
		return err
	}
	if ended {
		p.emit("info", fmt.Sprintf("transaction of %s %s ended: retrying now", p.SessionNoun, sessionList(blockers)), "")
	}
	if p.remaining() <= 0 {
		return p.giveUp(n, cause)
	}
	return nil
}

// retryWait bounds the wait before retry n. With no blocker known it is an
// exponential backoff with full jitter (50 ms doubling, capped at 5 s).
// With blockers known, the retry starts as soon as they end, and the bound
// is the cap: a retry while they live can only time out again, and each
// such retry holds the application up for one more lock timeout (measured
// on PostgreSQL with a 1.2 s blocker and 200 ms lock timeout: 1 stall of
// the readers instead of 4 or 5 with a jittered bound, same finish time).
func retryWait(n int, blockers []Blocker) time.Duration {
	if len(blockers) > 0 {
		return BlockerWaitCap
	}
	return fullJitter(backoffCeiling(n - 1))
}

// retryMessage describes the wait after a lock timeout.
func (p *Policy) retryMessage(n int, maxWait time.Duration, blockers []Blocker) string {
	wait := maxWait.Round(time.Millisecond)
	if len(blockers) == 0 {
		return fmt.Sprintf("lock timeout on attempt %d; retrying in %s", n, wait)
	}
	return fmt.Sprintf("lock timeout on attempt %d; retrying in %s at most, as soon as the transaction of %s %s ends",
		n, wait, p.SessionNoun, sessionList(blockers))
}

// giveUp ends the step at the deadline after n attempts.
func (p *Policy) giveUp(n int, cause error) error {
	msg := fmt.Sprintf("lock timeout: gave up at the deadline after %d attempt(s), each waiting at most %s for its locks (last: %s)",
		n, p.LockTimeout, cause.Error())
	return dialect.Failure(sqlOf(cause), msg, p.TimeoutCode, cause)
}

// waitEnded polls, every 10 ms, until every transaction of bs has ended,
// maxWait has passed, or ctx ends. It reports whether they all ended.
// Without blockers it simply sleeps maxWait.
func (p *Policy) waitEnded(ctx context.Context, bs []Blocker, maxWait time.Duration) (bool, error) {
	timer := time.NewTimer(maxWait)
	defer timer.Stop()
	if len(bs) == 0 {
		return false, sleepOn(ctx, timer.C)
	}
	ticker := time.NewTicker(endPollInterval)
	defer ticker.Stop()
	for {
		ended, err := p.Session.Ended(ctx, bs)
		if err != nil {
			return false, fmt.Errorf("wait for blocking transactions: %w", err)
		}
		if ended {
			return true, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-timer.C:
			return false, nil
		case <-ticker.C:
		}
	}
}

// remaining is the time left until the deadline; without one, forever.
func (p *Policy) remaining() time.Duration {
	if p.Deadline.IsZero() {
		return time.Duration(math.MaxInt64)
	}
	return time.Until(p.Deadline)
}

// emit reports an event, when someone listens.
func (p *Policy) emit(level, msg, sql string) {
	if p.Emit != nil {
		p.Emit(level, msg, sql)
	}
}

// sqlOf is the statement err comes from, if known.
func sqlOf(err error) string {
	var se *dialect.StatementError
	if errors.As(err, &se) {
		return se.SQL
	}
	return ""
}

// sessionList writes the blockers' sessions as "12, 34".
func sessionList(bs []Blocker) string {
	ids := make([]string, len(bs))
	for i, b := range bs {
		ids[i] = b.Session
	}
	return strings.Join(ids, ", ")
}

// sleepOn waits for fired or for ctx to end.
func sleepOn(ctx context.Context, fired <-chan time.Time) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-fired:
		return nil
	}
}

// backoffCeiling is the exponential backoff bound before retry n (0-based):
// 50 ms doubling up to 5 s.
func backoffCeiling(n int) time.Duration {
	if n >= 16 {
		return backoffCap
	}
	return min(backoffBase<<n, backoffCap)
}

// fullJitter draws a wait uniformly in [0, ceiling] (AWS's "full jitter"),
// so agents retrying against the same table spread out.
func fullJitter(ceiling time.Duration) time.Duration {
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling + 1)
}

// pollEvery is the blocker sampling interval for a lock timeout: several
// samples per lock timeout, at most every 50 ms.
func pollEvery(lockTimeout time.Duration) time.Duration {
	return max(min(blockerPollInterval, lockTimeout/4), minBlockerPoll)
}
