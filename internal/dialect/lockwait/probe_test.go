package lockwait

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// probingQueue is a Prober whose looks are counted; each finds nobody.
type probingQueue struct {
	noHolders
	looks atomic.Int32
}

func (q *probingQueue) CanProbe() bool { return true }

func (q *probingQueue) Contention(context.Context) (Contention, error) {
	q.looks.Add(1)
	return Contention{}, nil
}

// attemptLog records each attempt's number and whether it was a probe.
type attemptLog struct {
	numbers []int
	probes  []bool
}

func (l *attemptLog) add(ctx context.Context, n int) {
	l.numbers, l.probes = append(l.numbers, n), append(l.probes, Probing(ctx))
}

// TestProbeFreeTablesLookNowhere: when the probe gets its locks, the step
// is done in one attempt and nobody looked at the holders.
func TestProbeFreeTablesLookNowhere(t *testing.T) {
	q := &probingQueue{}
	p := &Policy{Session: &fakeSession{}, LockTimeout: 500 * time.Millisecond, SessionNoun: "pid", TimeoutCode: "55P03"}
	var log attemptLog
	retries, err := p.Run(t.Context(), q, func(ctx context.Context, n int) error { log.add(ctx, n); return nil })
	if err != nil || retries != 0 || len(log.numbers) != 1 || !log.probes[0] {
		t.Fatalf("Run = %d retries, %v; attempts %v (probes %v); want one probe attempt, success", retries, err, log.numbers, log.probes)
	}
	if n := q.looks.Load(); n != 0 {
		t.Errorf("the policy looked at the holders %d time(s), want none: the probe got its locks", n)
	}
}

// TestProbeTakenTablesLookThenEnter: a probe that finds the locks taken
// costs no retry; the policy looks, then makes attempt 2 as any attempt,
// with the lock timeout it picked.
func TestProbeTakenTablesLookThenEnter(t *testing.T) {
	q := &probingQueue{}
	rec := &recorder{}
	p := &Policy{Session: &fakeSession{}, LockTimeout: 500 * time.Millisecond, SessionNoun: "pid", TimeoutCode: "55P03", Emit: rec.emit}
	var log attemptLog
	var timeout time.Duration
	retries, err := p.Run(t.Context(), q, func(ctx context.Context, n int) error {
		log.add(ctx, n)
		if n == 1 {
			return errLockTimeout // NOWAIT refused
		}
		timeout = AttemptLockTimeout(ctx, 0)
		return nil
	})
	if err != nil || retries != 0 {
		t.Fatalf("Run = %d retries, %v; want success without a retry: the probe waited for nothing", retries, err)
	}
	if len(log.numbers) != 2 || log.numbers[1] != 2 || !log.probes[0] || log.probes[1] {
		t.Fatalf("attempts %v (probes %v), want a probe, then attempt 2 without one", log.numbers, log.probes)
	}
	if q.looks.Load() != 1 || timeout != p.LockTimeout {
		t.Errorf("looks %d, attempt 2's lock timeout %v; want one look, then %v", q.looks.Load(), timeout, p.LockTimeout)
	}
	if got := rec.text(); !containsAll(got, "attempt 1 found the tables locked", "and did not queue") {
		t.Errorf("events:\n%s\nwant the refused probe said", got)
	}
}

// TestProbeOtherErrorEndsTheStep: a probe that fails otherwise than on a
// lock is the step's end, without a look.
func TestProbeOtherErrorEndsTheStep(t *testing.T) {
	q := &probingQueue{}
	p := &Policy{Session: &fakeSession{}, LockTimeout: 500 * time.Millisecond, SessionNoun: "pid", TimeoutCode: "55P03"}
	bad := errors.New("column already exists")
	attempts := 0
	_, err := p.Run(t.Context(), q, func(context.Context, int) error { attempts++; return bad })
	if !errors.Is(err, bad) || attempts != 1 || q.looks.Load() != 0 {
		t.Fatalf("Run = %v after %d attempt(s), %d look(s); want the probe's error, one attempt, no look", err, attempts, q.looks.Load())
	}
}

// containsAll reports whether s holds every one of subs.
func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
