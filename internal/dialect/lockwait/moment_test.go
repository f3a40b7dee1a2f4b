package lockwait

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
)

// streamQueue is a table held in turn by statements of typical length
// usual, a new one starting every gap: the youngest has always run less
// than gap.
type streamQueue struct {
	noHolders
	start time.Time
	usual time.Duration
	gap   time.Duration
}

func (q streamQueue) Contention(context.Context) (Contention, error) {
	age := time.Since(q.start) % q.gap
	started := time.Now().Add(-age)
	return Contention{Queued: 2, Holders: []Blocker{
		{Session: "41", Started: started.Add(-q.gap), State: StateRunning, OneStatement: true, Running: age + q.gap, Age: age + q.gap, Typical: q.usual},
		{Session: "42", Started: started, State: StateRunning, OneStatement: true, Running: age, Age: age, Typical: q.usual},
	}}, nil
}

// recorder keeps the events.
type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) emit(_, msg, _ string) { r.mu.Lock(); r.msgs = append(r.msgs, msg); r.mu.Unlock() }
func (r *recorder) text() string          { r.mu.Lock(); defer r.mu.Unlock(); return strings.Join(r.msgs, "\n") }

func TestPickEntersWithTheExpectedWait(t *testing.T) {
	rec := &recorder{}
	p := &Policy{Session: &fakeSession{}, LockTimeout: 500 * time.Millisecond, SessionNoun: "pid", Emit: rec.emit}
	q := streamQueue{start: time.Now(), usual: 600 * time.Millisecond, gap: 300 * time.Millisecond}
	var got time.Duration
	_, err := p.Run(t.Context(), q, func(ctx context.Context, _ int) error {
		got = AttemptLockTimeout(ctx, 0)
		return nil
	})
	if err != nil || got <= 0 || got > p.LockTimeout {
		t.Fatalf("Run = %v with lock timeout %v, want success within (0, %v]", err, got, p.LockTimeout)
	}
	if !strings.Contains(rec.text(), "entering the lock queue") {
		t.Errorf("events:\n%s\nwant the moment to be said", rec.text())
	}
}

func TestPickNeverFreeGivesUpAtTheDeadline(t *testing.T) {
	rec := &recorder{}
	p := &Policy{Session: &fakeSession{}, LockTimeout: 200 * time.Millisecond, SessionNoun: "pid", TimeoutCode: "55P03",
		Emit: rec.emit, Deadline: time.Now().Add(neverFreeAfter + 300*time.Millisecond)}
	// Reads of 600 ms, one starting every 100 ms: always more than 200 ms to go.
	q := streamQueue{start: time.Now(), usual: 600 * time.Millisecond, gap: 100 * time.Millisecond}
	attempts := 0
	_, err := p.Run(t.Context(), q, func(context.Context, int) error { attempts++; return nil })
	var se *dialect.StatementError
	if !errors.As(err, &se) || se.DB.SQLState != "55P03" || !strings.Contains(se.DB.Message, "shortest expected wait") || attempts != 0 {
		t.Fatalf("Run = %v after %d attempt(s), want to give up at the deadline with the figures, never entering", err, attempts)
	}
	if !strings.Contains(rec.text(), "never free for longer than the maximum delay") {
		t.Errorf("events:\n%s\nwant the never-free warning", rec.text())
	}
}

func TestPickWaitsForIdleInTransaction(t *testing.T) {
	rec := &recorder{}
	s := &fakeSession{}
	p := &Policy{Session: s, LockTimeout: 200 * time.Millisecond, SessionNoun: "pid", Emit: rec.emit}
	q := idleQueue{s: s}
	go func() { time.Sleep(150 * time.Millisecond); s.ended.Store(true) }()
	_, err := p.Run(t.Context(), q, func(context.Context, int) error {
		if !s.ended.Load() {
			return errors.New("entered the queue behind an idle transaction")
		}
		return nil
	})
	if err != nil || !strings.Contains(rec.text(), "idle in transaction") {
		t.Fatalf("Run = %v, events:\n%s\nwant a wait for the idle transaction, then success", err, rec.text())
	}
}

// idleQueue has one session idle in its transaction until s ends it.
type idleQueue struct {
	noHolders
	s *fakeSession
}

func (q idleQueue) Contention(context.Context) (Contention, error) {
	if q.s.ended.Load() {
		return Contention{}, nil
	}
	return Contention{Holders: []Blocker{{Session: "7", Started: time.Unix(1, 0), Age: time.Second,
		State: StateIdleInTransaction, Running: time.Second}}}, nil
}

// staggered is a table read in turn by n sessions, each read lasting
// usual, the sessions started usual/n apart and reading back to back: the
// reads in progress always end usual/n apart.
type staggered struct {
	noHolders
	start time.Time
	usual time.Duration
	n     int
}

// ages are the running times of the reads in progress at now.
func (q staggered) ages(now time.Time) []time.Duration {
	gap := q.usual / time.Duration(q.n)
	var out []time.Duration
	for i := range q.n {
		out = append(out, (now.Sub(q.start)+time.Duration(i)*gap)%q.usual)
	}
	return out
}

// Contention answers as of the start of a 5 ms round trip.
func (q staggered) Contention(context.Context) (Contention, error) {
	now := time.Now()
	time.Sleep(5 * time.Millisecond)
	var c Contention
	for i, age := range q.ages(now) {
		c.Holders = append(c.Holders, Blocker{Session: strconv.Itoa(40 + i), Started: now.Add(-age), State: StateRunning,
			OneStatement: true, Running: age, Age: age, Typical: q.usual})
	}
	return c, nil
}

// TestPickEntersBeforeTheSoonestEnds: three staggered reads of 700 ms and
// a 500 ms lock timeout leave a 33 ms window in each 233 ms, which ends
// when the oldest read ends and its session starts the next. The attempt
// starts inside the window: every read in progress ends within the lock
// timeout, and none has ended by the time the DDL is queued (8 ms after
// the attempt starts, less than two of the look's round trips).
func TestPickEntersBeforeTheSoonestEnds(t *testing.T) {
	for i := range 3 {
		p := &Policy{Session: &fakeSession{}, LockTimeout: 500 * time.Millisecond, SessionNoun: "pid"}
		q := staggered{start: time.Now().Add(-time.Duration(i) * 77 * time.Millisecond), usual: 700 * time.Millisecond, n: 3}
		var ages []time.Duration
		_, err := p.Run(t.Context(), q, func(context.Context, int) error {
			ages = q.ages(time.Now().Add(8 * time.Millisecond))
			return nil
		})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		youngest := slices.Min(ages)
		if left := q.usual - youngest; left > p.LockTimeout {
			t.Errorf("run %d: entered with reads aged %v: the youngest has %v left, want within %v and no read new", i, ages, left, p.LockTimeout)
		}
	}
}
