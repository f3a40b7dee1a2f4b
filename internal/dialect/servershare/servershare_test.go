package servershare

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) now() time.Time      { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeClock) add(d time.Duration) { f.mu.Lock(); f.t = f.t.Add(d); f.mu.Unlock() }

func TestGetKeepsAnAnswerForMaxAge(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	c := NewWithClock(clock.now)
	var asked int
	ask := func(context.Context) (int, error) { asked++; return asked, nil }
	ctx := context.Background()
	for i, tc := range []struct {
		advance time.Duration
		want    int
	}{{0, 1}, {500 * time.Millisecond, 1}, {499 * time.Millisecond, 1}, {time.Millisecond, 2}, {0, 2}} {
		clock.add(tc.advance)
		got, err := Get(ctx, c, "db1:5432", "probe", time.Second, ask)
		if err != nil || got != tc.want {
			t.Fatalf("call %d: got %d, %v; want %d", i, got, err, tc.want)
		}
	}
}

func TestGetSeparatesServersAndQuestions(t *testing.T) {
	c := New()
	ctx := context.Background()
	get := func(server, q string, v string) string {
		got, err := Get(ctx, c, server, q, time.Hour, func(context.Context) (string, error) { return v, nil })
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	get("a:1", "probe", "a-probe")
	get("b:1", "probe", "b-probe")
	get("a:1", "sample", "a-sample")
	for _, tc := range []struct{ server, q, want string }{
		{"a:1", "probe", "a-probe"}, {"b:1", "probe", "b-probe"}, {"a:1", "sample", "a-sample"},
	} {
		if got := get(tc.server, tc.q, "asked again"); got != tc.want {
			t.Errorf("%s %s: got %q, want %q", tc.server, tc.q, got, tc.want)
		}
	}
}

func TestConcurrentCallersShareOneAsking(t *testing.T) {
	c := New()
	release := make(chan struct{})
	var asked atomic.Int32
	ask := func(context.Context) (int, error) {
		asked.Add(1)
		<-release
		return 42, nil
	}
	const callers = 50
	var wg sync.WaitGroup
	results := make(chan int, callers)
	for range callers {
		wg.Go(func() {
			got, err := Get(context.Background(), c, "db:5432", "probe", time.Minute, ask)
			if err != nil {
				t.Error(err)
			}
			results <- got
		})
	}
	// Every caller but the asker waits on the asking in flight.
	waitFor(t, func() bool { return asked.Load() == 1 && waiting(c) })
	close(release)
	wg.Wait()
	close(results)
	for got := range results {
		if got != 42 {
			t.Fatalf("got %d, want 42", got)
		}
	}
	if n := asked.Load(); n != 1 {
		t.Fatalf("asked %d times, want 1", n)
	}
}

// waiting reports whether an asking is in flight.
func waiting(c *Cache) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		if e.pending != nil {
			return true
		}
	}
	return false
}

func TestAnErrorIsNotSharedAndWaitersAskInTurn(t *testing.T) {
	c := New()
	release := make(chan struct{})
	first := make(chan struct{})
	failing := func(context.Context) (string, error) {
		close(first)
		<-release
		return "", errors.New("database tenant007 does not exist")
	}
	done := make(chan error, 1)
	go func() {
		_, err := Get(context.Background(), c, "db:5432", "probe", time.Minute, failing)
		done <- err
	}()
	<-first
	var asking, most atomic.Int32
	own := func(context.Context) (string, error) {
		n := asking.Add(1)
		defer asking.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		return "own answer", nil
	}
	const waiters = 20
	results := make(chan string, waiters)
	var wg sync.WaitGroup
	for range waiters {
		wg.Go(func() {
			got, err := Get(context.Background(), c, "db:5432", "probe", time.Minute, own)
			if err != nil {
				t.Error(err)
			}
			results <- got
		})
	}
	waitFor(t, func() bool { return waiting(c) })
	close(release)
	if err := <-done; err == nil {
		t.Fatal("the failing asker got no error")
	}
	wg.Wait()
	close(results)
	for got := range results {
		if got != "own answer" {
			t.Fatalf("a waiter got %q, want the answer of the one that asked next", got)
		}
	}
	if m := most.Load(); m != 1 {
		t.Fatalf("%d waiters asked at once after the failure, want one at a time", m)
	}
}

func TestAWaiterHonoursItsContext(t *testing.T) {
	c := New()
	release := make(chan struct{})
	defer close(release)
	started := make(chan struct{})
	go func() {
		_, _ = Get(context.Background(), c, "db:5432", "probe", time.Minute, func(context.Context) (int, error) {
			close(started)
			<-release
			return 1, nil
		})
	}()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Get(ctx, c, "db:5432", "probe", time.Minute, func(context.Context) (int, error) { return 2, nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestNilCacheAsksEveryTime(t *testing.T) {
	var asked int
	for range 3 {
		if _, err := Get(context.Background(), nil, "db:5432", "probe", time.Hour,
			func(context.Context) (int, error) { asked++; return asked, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if asked != 3 {
		t.Fatalf("asked %d times, want 3", asked)
	}
}

// waitFor polls cond until it holds, failing the test after a long while.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestGetNewerNeverGivesTheSameAnswerTwice(t *testing.T) {
	c := NewWithClock(func() time.Time { return time.Unix(1000, 0) })
	var asked int
	ask := func(context.Context) (int, error) { asked++; return asked, nil }
	ctx := context.Background()
	first, n1, err := GetNewer(ctx, c, "db:5432", "sample", time.Minute, 0, ask)
	if err != nil || first != 1 {
		t.Fatalf("first: got %d, %v", first, err)
	}
	// Another database's sampler, which has not seen it, shares it.
	if got, n, _ := GetNewer(ctx, c, "db:5432", "sample", time.Minute, 0, ask); got != 1 || n != n1 {
		t.Fatalf("another caller: got %d (number %d), want the shared 1 (number %d)", got, n, n1)
	}
	// The caller that had it gets a new one, which the others then share.
	second, n2, err := GetNewer(ctx, c, "db:5432", "sample", time.Minute, n1, ask)
	if err != nil || second != 2 || n2 <= n1 {
		t.Fatalf("after seeing number %d: got %d (number %d), %v; want a new answer", n1, second, n2, err)
	}
	if got, _, _ := GetNewer(ctx, c, "db:5432", "sample", time.Minute, n1, ask); got != 2 {
		t.Fatalf("got %d, want the newer shared answer 2", got)
	}
}

func TestARoundSharesOneAnswerWhateverItsAge(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	c := NewWithClock(clock.now)
	var asked int
	ask := func(context.Context) (int, error) { asked++; return asked, nil }
	get := func(ctx context.Context, seen uint64) (int, uint64) {
		v, n, err := GetNewer(ctx, c, "db:5432", "sample", 50*time.Millisecond, seen, ask)
		if err != nil {
			t.Fatal(err)
		}
		return v, n
	}
	tick1 := WithRound(context.Background(), 1)
	a, na := get(tick1, 0)
	clock.add(time.Second) // the round's samples took long
	if b, _ := get(tick1, 0); b != a {
		t.Fatalf("a second database in the same round got %d, want the round's %d", b, a)
	}
	tick2 := WithRound(context.Background(), 2)
	if got, _ := get(tick2, na); got == a {
		t.Fatalf("the next round got the old answer %d", got)
	}
	if got, _ := get(context.Background(), 0); got != 2 {
		t.Fatalf("outside any round, within maxAge of the latest: got %d, want 2", got)
	}
	clock.add(time.Second)
	if got, _ := get(tick2, 0); got != 2 {
		t.Fatalf("round 2 again, answer asked in it: got %d, want 2", got)
	}
	if got, _ := get(tick1, 0); got != 3 {
		t.Fatalf("round 1's answer is gone, outside maxAge: got %d, want a new one (3)", got)
	}
}

// TestLastServesAFailedAskerWithinItsAge checks the fallback of a caller
// whose asking failed: the latest answer while it is younger than the age
// given, nothing once it is older, nothing for another server or a nil
// cache.
func TestLastServesAFailedAskerWithinItsAge(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	c := NewWithClock(clock.now)
	if _, ok := Last[int](c, "db1:5432", "probe", 10*time.Second); ok {
		t.Fatal("Last before any answer: ok, want none")
	}
	if _, err := Get(context.Background(), c, "db1:5432", "probe", time.Second,
		func(context.Context) (int, error) { return 7, nil }); err != nil {
		t.Fatal(err)
	}
	clock.add(3 * time.Second)
	_, err := Get(context.Background(), c, "db1:5432", "probe", time.Second,
		func(context.Context) (int, error) { return 0, errors.New("timeout") })
	if err == nil {
		t.Fatal("a failed asking returned no error")
	}
	if v, ok := Last[int](c, "db1:5432", "probe", 10*time.Second); !ok || v != 7 {
		t.Errorf("Last after a failed asking = %d, %v; want the kept 7", v, ok)
	}
	if _, ok := Last[int](c, "db2:5432", "probe", 10*time.Second); ok {
		t.Error("Last of another server: ok, want none")
	}
	clock.add(7 * time.Second)
	if _, ok := Last[int](c, "db1:5432", "probe", 10*time.Second); ok {
		t.Error("Last of a 10 s old answer with a 10 s age: ok, want none")
	}
	if _, ok := Last[int](nil, "db1:5432", "probe", time.Hour); ok {
		t.Error("Last of a nil cache: ok, want none")
	}
}
