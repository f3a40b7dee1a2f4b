package lockwait

import (
	"context"
	"errors"
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
