package lockwait

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
)

// Timing of the moment picker.
const (
	// momentPoll is how often the picker looks at the holders while it
	// waits for a moment to enter the queue.
	momentPoll = 10 * time.Millisecond
	// momentMargin is kept between the expected wait and the lock timeout,
	// beyond the holder's own spread (TypicalSD). A stream of readers
	// leaves a window of a few tens of milliseconds (three staggered
	// 0.7 s reads against 500 ms: 33 ms); a wide margin closes it.
	momentMargin = 5 * time.Millisecond
	// minRace and maxRace bound the time the DDL needs, after a look,
	// to be in the lock queue (its transaction's first round trips): a
	// holder expected to end sooner may be replaced by its session's next
	// statement before the DDL is queued, and that one would hold the
	// table for its whole run.
	minRace = 10 * time.Millisecond
	maxRace = 50 * time.Millisecond
	// raceLooks is how many looks' time the DDL is given to be queued: the
	// look is two round trips, the attempt's transaction takes four
	// before the DDL's lock request, and a loaded host adds its delays.
	raceLooks = 4
	// minAttemptTimeout is the shortest lock timeout of an attempt.
	minAttemptTimeout = 50 * time.Millisecond
	// neverFreeAfter is how long the picker waits without a moment before
	// it says that the table is never free for long enough.
	neverFreeAfter = 2 * time.Second
)

// Contention is who holds, and how many wait for, what a group of
// statements needs, now.
type Contention struct {
	// Holders hold a conflicting lock (or a snapshot the statements wait
	// for), with what is known of their statements.
	Holders []Blocker
	// Queued is how many sessions wait in the lock queue of the targets.
	Queued int
}

// Queue is the optional Needs hook that lets the policy pick its moment:
// with it, the DDL enters the lock queue when the holders are expected to
// be done within the lock timeout (the application's maximum delay), and
// waits outside the queue for the holders whose end it cannot foresee.
type Queue interface {
	Contention(ctx context.Context) (Contention, error)
}

// moment is what the picker chose: the attempt's lock timeout, and the
// holders it saw when it chose (to tell, after a lock timeout, a holder
// that came after the moment from one that overran its usual time).
type moment struct {
	timeout time.Duration
	holders []Blocker
}

// lockTimeoutKey carries an attempt's lock timeout in its context.
type lockTimeoutKey struct{}

// AttemptLockTimeout is the lock timeout the policy chose for the attempt
// running with ctx, else def.
func AttemptLockTimeout(ctx context.Context, def time.Duration) time.Duration {
	if d, ok := ctx.Value(lockTimeoutKey{}).(time.Duration); ok && d > 0 {
		return d
	}
	return def
}

// expectedEnd is when a holder's locks are expected to go, measured from
// now; ok is false when the engine cannot foresee it: idle in transaction,
// a transaction of several statements, a statement without figures, or one
// far past its usual time.
func expectedEnd(b Blocker) (time.Duration, bool) {
	if b.State != StateRunning || !b.OneStatement || b.Typical <= 0 {
		return 0, false
	}
	left := b.Typical + b.TypicalSD - b.Running
	if left < -max(b.Typical, 3*b.TypicalSD) {
		return 0, false // far past its usual time: something else is going on
	}
	return max(left, momentPoll), true
}

// soonestEnd is, for a foreseeable holder, a low estimate of when its
// locks go (mean less one standard deviation): the risk that it ends, and
// its session's next statement takes the table, before the DDL is queued.
func soonestEnd(b Blocker) time.Duration {
	return max(b.Typical-b.TypicalSD-b.Running, 0)
}

// picked is the figures of one look at the holders.
type picked struct {
	wait    time.Duration // the longest expected wait for a foreseeable holder
	soonest time.Duration // the shortest low estimate of a foreseeable holder's end (see soonestEnd)
	race    time.Duration // how long the DDL needs to be queued after the look
	last    Blocker       // that holder
	blind   []Blocker     // holders whose end cannot be foreseen, to wait for
	young   []Blocker     // of those, the young: tried, as a lock timeout bounds the try
	holders int
	queued  int
}

// idleGrace is how long a session may sit idle in its transaction before
// it counts as one to wait for (its client may be about to commit).
const idleGrace = 50 * time.Millisecond

// look classifies the holders of c. A holder whose end cannot be foreseen
// is waited for once it is older than a lock timeout or idle in its
// transaction; a younger one is tried, since it may end at any moment.
func (p *Policy) look(c Contention) picked {
	pk := picked{holders: len(c.Holders), queued: c.Queued, soonest: -1}
	for _, h := range c.Holders {
		left, ok := expectedEnd(h)
		if ok && (pk.soonest < 0 || soonestEnd(h) < pk.soonest) {
			pk.soonest = soonestEnd(h)
		}
		switch {
		case ok:
		case h.Age < p.LockTimeout && !(h.State == StateIdleInTransaction && h.Running > idleGrace):
			pk.young = append(pk.young, h)
			continue
		default:
			pk.blind = append(pk.blind, h)
			continue
		}
		if left >= pk.wait {
			pk.wait, pk.last = left, h
		}
	}
	return pk
}

// pickMoment waits, outside the lock queue, for a moment when the DDL may
// enter it, and returns the lock timeout to enter with: long enough for
// the holders' expected remaining time, never longer than the policy's
// lock timeout. Holders whose end cannot be foreseen (idle in transaction,
// long statements) are waited for until they end, as Run does without the
// hook. At the deadline it gives up with the figures.
//
// In a stream of short statements the moment is the one just before the
// soonest holder ends: the last to end is then as far along as it gets,
// and the DDL must be queued before the soonest one's session starts its
// next statement. The picker foresees that moment from one look and
// sleeps until it, rather than polling past it.
func (p *Policy) pickMoment(ctx context.Context, q Queue, sql string) (moment, error) {
	var s streamState
	for {
		began := time.Now()
		c, err := q.Contention(ctx)
		if err != nil {
			return moment{timeout: p.LockTimeout}, nil // the lock timeout is the safety
		}
		if killed, err := p.terminateOld(ctx, c.Holders, &s); err != nil || killed {
			if err != nil {
				return moment{}, err
			}
			continue
		}
		pk := p.look(c)
		pk.race = min(max(raceLooks*time.Since(began), minRace), maxRace)
		switch {
		case pk.holders == 0:
			return moment{p.LockTimeout, c.Holders}, nil
		case len(pk.blind) > 0:
			if err := p.waitBlind(ctx, pk, sql, &s); err != nil {
				return moment{}, err
			}
			continue
		case pk.wait == 0:
			return moment{p.LockTimeout, c.Holders}, nil // only young holders: tried, bounded by the lock timeout
		}
		if timeout, ok := p.enterAt(ctx, pk, &s); ok {
			return moment{timeout, c.Holders}, nil
		}
		if err := p.waitStream(ctx, pk, sql, &s); err != nil {
			return moment{}, err
		}
	}
}

// enterAt enters after a short sleep, when the look foresees a moment:
// the last holder is expected done within the lock timeout and no holder
// is expected to end before the DDL is queued; it sleeps to the latest
// such moment. It reports false when there is none this turn (or the
// sleep overran it).
func (p *Policy) enterAt(ctx context.Context, pk picked, s *streamState) (time.Duration, bool) {
	until := max(pk.wait+momentMargin-p.LockTimeout, 0)
	if until > maxMomentPoll || pk.soonest-until < pk.race {
		return 0, false
	}
	// Enter as late as is safe: the last holder ends at the same time
	// whenever the DDL enters, and each moment less in the queue is a
	// moment less the application waits behind it.
	until = max(until, min(pk.soonest-2*pk.race, maxMomentPoll))
	if until > 0 {
		start := time.Now()
		if sleepOn(ctx, time.After(until)) != nil {
			return 0, false
		}
		slept := time.Since(start)
		if slept > pk.soonest-pk.race {
			return 0, false // overslept: the soonest holder may be gone, look again
		}
		pk.wait -= slept
		pk.last.Running += slept
	}
	timeout := max(min(p.LockTimeout, pk.wait+pk.last.TypicalSD+momentMargin), minAttemptTimeout)
	if len(pk.young) > 0 {
		timeout = p.LockTimeout // a young transaction may need all of it
	}
	p.emit("info", p.enterMessage(pk, timeout, s), "")
	return timeout, true
}

// streamState follows one wait for a moment.
type streamState struct {
	busySince time.Time     // the first look without a moment
	best      time.Duration // the shortest expected wait seen since
	last      string        // the transaction that was last to end, at the previous look
	turnover  bool          // a new transaction became the last to end: a stream
	said      bool          // the never-free message was given
	told      map[string]bool
	// saidNoTerminate: the engine cannot terminate, and that was said.
	saidNoTerminate bool
}

// tell marks key as said.
func (s *streamState) tell(key string) {
	if s.told == nil {
		s.told = map[string]bool{}
	}
	s.told[key] = true
}

// maxMomentPoll bounds the sleep between looks while the wait is long.
const maxMomentPoll = 250 * time.Millisecond

// waitStream waits one poll while every holder is foreseeable but the
// wait for them exceeds the lock timeout; after neverFreeAfter it says so
// with the figures, and at the deadline it gives up.
func (p *Policy) waitStream(ctx context.Context, pk picked, sql string, s *streamState) error {
	now := time.Now()
	if s.busySince.IsZero() {
		s.busySince, s.best = now, pk.wait
	}
	s.best = min(s.best, pk.wait)
	key := pk.last.Session + "@" + pk.last.Started.String()
	s.turnover = s.turnover || (s.last != "" && key != s.last)
	s.last = key
	if !s.said && s.turnover && now.Sub(s.busySince) >= neverFreeAfter {
		s.said = true
		if p.FailNeverFree {
			msg := "lock timeout: the table is never free for longer than the maximum delay: " + p.streamFigures(pk, s) +
				"; giving up at once, as the migration's policy says (neverFree: fail)"
			p.emit("warn", msg, "")
			return dialect.Failure(sql, msg, p.TimeoutCode, nil)
		}
		p.emit("warn", "the table is never free for longer than the maximum delay: "+p.streamFigures(pk, s)+
			"; waiting outside the lock queue for a moment, until the deadline, as the migration's policy says (neverFree: wait)", "")
	}
	if p.remaining() <= 0 {
		return dialect.Failure(sql, "lock timeout: gave up at the deadline: "+p.streamFigures(pk, s), p.TimeoutCode, nil)
	}
	return sleepOn(ctx, time.After(nextLook(pk, p.LockTimeout)))
}

// nextLook is how long to sleep before looking again when the look
// foresaw no moment: until the soonest holder has ended, when it would end
// before the last one fits the lock timeout (its successor changes the
// picture), else until the last one fits; between momentPoll and
// maxMomentPoll, so that a holder ending early is noticed.
func nextLook(pk picked, lockTimeout time.Duration) time.Duration {
	until := pk.wait + momentMargin - lockTimeout
	if pk.soonest >= 0 && pk.soonest-until < pk.race {
		until = pk.soonest + momentPoll
	}
	return max(min(until, maxMomentPoll), momentPoll)
}

// streamFigures describes a table held in turn by short statements.
func (p *Policy) streamFigures(pk picked, s *streamState) string {
	return fmt.Sprintf("for %s, %d session(s) held it in turn (now %s %s, %s, usually %s), %d queued; "+
		"the shortest expected wait seen was %s, the maximum delay is %s",
		time.Since(s.busySince).Round(10*time.Millisecond), pk.holders, p.SessionNoun, pk.last.Session,
		pk.last.what(), pk.last.Typical.Round(time.Millisecond), pk.queued, s.best.Round(time.Millisecond), p.LockTimeout)
}

// enterMessage says why the DDL enters the queue now.
func (p *Policy) enterMessage(pk picked, timeout time.Duration, s *streamState) string {
	waited := ""
	if !s.busySince.IsZero() {
		waited = fmt.Sprintf(" after %s outside the queue", time.Since(s.busySince).Round(10*time.Millisecond))
	}
	return fmt.Sprintf("entering the lock queue%s with a lock timeout of %s: %d session(s) hold the table, the last "+
		"(%s %s, running %s, usually %s) expected done in %s; %d queued",
		waited, timeout.Round(time.Millisecond), pk.holders, p.SessionNoun, pk.last.Session,
		pk.last.Running.Round(time.Millisecond), pk.last.Typical.Round(time.Millisecond), pk.wait.Round(time.Millisecond), pk.queued)
}

// waitBlind waits outside the queue for the holders whose end cannot be
// foreseen, as Run does for long holders.
func (p *Policy) waitBlind(ctx context.Context, pk picked, sql string, s *streamState) error {
	for _, h := range pk.blind {
		key := h.Session + "@" + h.Started.String()
		if !s.told[key] {
			s.tell(key)
			p.emit("info", fmt.Sprintf("waiting for %s %s (%s, transaction open %s, %d queued) %s before trying",
				p.SessionNoun, h.Session, h.describe(), h.Age.Round(100*time.Millisecond), pk.queued, h.what()), "")
		}
	}
	ended, err := p.waitEnded(ctx, pk.blind, p.untilTerminable(pk.blind, min(BlockerWaitCap, p.remaining())))
	switch {
	case err != nil:
		return err
	case !ended && p.remaining() <= 0:
		msg := fmt.Sprintf("lock timeout: gave up at the deadline waiting for the transaction of %s %s (%s)",
			p.SessionNoun, sessionList(pk.blind), pk.blind[0].what())
		return dialect.Failure(sql, msg, p.TimeoutCode, nil)
	}
	s.busySince, s.last, s.turnover = time.Time{}, "", false
	return nil
}

// describe says what is known of a holder's statement.
func (b Blocker) describe() string {
	var parts []string
	switch b.State {
	case StateIdleInTransaction:
		parts = append(parts, "idle in transaction")
	case StateRunning:
		parts = append(parts, "running for "+b.Running.Round(time.Millisecond).String())
		if b.Typical > 0 {
			parts = append(parts, "usually "+b.Typical.Round(time.Millisecond).String())
		} else {
			parts = append(parts, "no figures for its statement")
		}
		if !b.OneStatement {
			parts = append(parts, "in a longer transaction")
		}
	default:
		parts = append(parts, "state unknown")
	}
	return strings.Join(parts, ", ")
}
