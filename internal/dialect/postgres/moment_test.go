package postgres_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/testbed"
)

// TestLockQueueStreamOfReaders: three sessions read a table back to back,
// each read 0.6 s and staggered, so the table is never free; a lock
// timeout of 500 ms is shorter than a read. The step waits outside the
// queue for a moment when the reads in progress are expected to end within
// its lock timeout, enters once, and succeeds; no read waits behind it
// longer than the lock timeout.
func TestLockQueueStreamOfReaders(t *testing.T) {
	p := testbed.StartPostgres(t, testbed.PostgresOptions{})
	db := &testDB{c: open(t, p.DSN("app")), dsn: p.DSN("app"), password: p.Password()}
	db.exec(t, "CREATE TABLE stream (id int)", "INSERT INTO stream SELECT generate_series(1, 100)")
	const read = 600 * time.Millisecond
	readers := startStream(t, db, 3, "SELECT pg_sleep(0.6), count(*) FROM stream", read/3)
	db.waitFor(t, "reads with figures in pg_stat_statements", func() bool { return readers.calls.Load() >= 3 })

	ev := &eventLog{}
	req := db.step("stream", "ALTER TABLE stream ADD COLUMN c int")
	req.LockTimeout = 500 * time.Millisecond
	req.Deadline = time.Now().Add(30 * time.Second)
	start := time.Now()
	out := db.mustRun(t, req, ev)
	took := time.Since(start)
	worst := readers.stop() - read
	if out.Error != nil {
		t.Fatalf("outcome error = %+v", out.Error)
	}
	ev.want(t, "entering the lock queue")
	if out.Retries > 1 {
		t.Errorf("Retries = %d, want at most 1: the step enters the queue at a moment the reads are nearly done", out.Retries)
	}
	if worst > req.LockTimeout+selectSlack {
		t.Errorf("a read waited %v more than its own time, want < lock timeout %v + %v", worst, req.LockTimeout, selectSlack)
	}
	t.Logf("done in %v, %d retries, worst extra read wait %v\n%s", took.Round(time.Millisecond), out.Retries, worst.Round(time.Millisecond), eventText(ev))
}

// stream runs sql back to back on n sessions, started stagger apart, and
// keeps the longest call.
type stream struct {
	calls   atomic.Int64
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex
	longest time.Duration
}

func startStream(t *testing.T, db *testDB, n int, sql string, stagger time.Duration) *stream {
	ctx, cancel := context.WithCancel(t.Context())
	s := &stream{cancel: cancel}
	for i := range n {
		conn := db.conn(t)
		s.wg.Go(func() {
			time.Sleep(time.Duration(i) * stagger)
			for ctx.Err() == nil {
				begin := time.Now()
				if _, err := conn.Exec(ctx, sql); err != nil {
					return
				}
				s.mu.Lock()
				s.longest = max(s.longest, time.Since(begin))
				s.mu.Unlock()
				s.calls.Add(1)
			}
		})
	}
	t.Cleanup(func() { s.stop() })
	return s
}

// stop ends the reads and returns the longest.
func (s *stream) stop() time.Duration {
	s.cancel()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.longest
}

// eventText is the events' messages, one a line.
func eventText(l *eventLog) string {
	var out []string
	for _, e := range l.snapshot() {
		out = append(out, e.Level+": "+e.Message)
	}
	return strings.Join(out, "\n")
}
