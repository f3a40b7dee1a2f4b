package lockwait

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
)

var errLockTimeout = errors.New("lock timeout")

// fakeSession has one blocker, whose transaction ends when ended is set;
// asked counts the looks at it.
type fakeSession struct {
	ended atomic.Bool
	asked atomic.Int32
}

func (f *fakeSession) IsLockTimeout(err error) bool { return errors.Is(err, errLockTimeout) }

func (f *fakeSession) Blockers(context.Context) ([]Blocker, error) {
	f.asked.Add(1)
	return []Blocker{{Session: "7", Started: time.Unix(1, 0)}}, nil
}

func (f *fakeSession) Ended(context.Context, []Blocker) (bool, error) { return f.ended.Load(), nil }

// noHolders: nothing holds the locks before the first attempt.
type noHolders struct{}

func (noHolders) Holders(context.Context, time.Duration) ([]Blocker, error) { return nil, nil }
func (noHolders) SQL() string                                               { return "ALTER TABLE t" }

func TestRetryWaitsForTheBlocker(t *testing.T) {
	s := &fakeSession{}
	var msgs []string
	p := &Policy{Session: s, LockTimeout: 40 * time.Millisecond, SessionNoun: "pid", TimeoutCode: "55P03",
		Emit: func(_, msg, _ string) { msgs = append(msgs, msg) }}
	retries, err := p.Run(t.Context(), noHolders{}, func(_ context.Context, n int) error {
		if n == 1 {
			time.Sleep(60 * time.Millisecond) // the watch samples the blocker
			go func() { time.Sleep(50 * time.Millisecond); s.ended.Store(true) }()
			return errLockTimeout
		}
		if !s.ended.Load() {
			return errors.New("retried before the blocker ended")
		}
		return nil
	})
	if err != nil || retries != 1 {
		t.Fatalf("Run = %d retries, %v; want 1 retry, success", retries, err)
	}
	all := strings.Join(msgs, "\n")
	if !strings.Contains(all, "as soon as the transaction of pid 7 ends") || !strings.Contains(all, "retrying now") {
		t.Errorf("events:\n%s\nwant a wait for pid 7, then a retry", all)
	}
}

// TestQuickAttemptAsksNothing: an attempt done within half its lock
// timeout costs no look at the blockers (nor the session to ask on).
func TestQuickAttemptAsksNothing(t *testing.T) {
	s := &fakeSession{}
	p := &Policy{Session: s, LockTimeout: 10 * time.Second, SessionNoun: "pid", TimeoutCode: "55P03"}
	_, err := p.Run(t.Context(), noHolders{}, func(context.Context, int) error {
		time.Sleep(100 * time.Millisecond) // two blocker intervals, far from half the lock timeout
		return nil
	})
	if err != nil || s.asked.Load() != 0 {
		t.Fatalf("Run = %v with %d look(s) at the blockers; want success and none", err, s.asked.Load())
	}
}

func TestGiveUpAtTheDeadline(t *testing.T) {
	p := &Policy{Session: &fakeSession{}, LockTimeout: 10 * time.Millisecond, TimeoutCode: "55P03",
		SessionNoun: "pid", Deadline: time.Now().Add(150 * time.Millisecond)}
	attempts := 0
	_, err := p.Run(t.Context(), noHolders{}, func(context.Context, int) error {
		attempts++
		return dialect.Failure("ALTER TABLE t", "canceling statement due to lock timeout", "55P03", errLockTimeout)
	})
	var se *dialect.StatementError
	if !errors.As(err, &se) || se.DB.SQLState != "55P03" || se.SQL != "ALTER TABLE t" || !strings.Contains(se.DB.Message, "gave up at the deadline") {
		t.Fatalf("Run = %v after %d attempt(s); want a StatementError giving up at the deadline, code 55P03", err, attempts)
	}
}

func TestBackoffBounds(t *testing.T) {
	for n := 0; n < 20; n++ {
		if c := backoffCeiling(n); c < backoffBase || c > backoffCap {
			t.Errorf("backoffCeiling(%d) = %v, want within [%v, %v]", n, c, backoffBase, backoffCap)
		}
		if w := fullJitter(backoffCeiling(n)); w < 0 || w > backoffCeiling(n) {
			t.Errorf("fullJitter(%v) = %v, want within [0, ceiling]", backoffCeiling(n), w)
		}
	}
	if got := retryWait(1, []Blocker{{Session: "1"}}); got != BlockerWaitCap {
		t.Errorf("retryWait with a blocker = %v, want the cap %v", got, BlockerWaitCap)
	}
}
