package conformance

import (
	"context"
	"testing"
	"time"
)

// reads is the application reading a table in a loop, measuring the
// longest read.
type reads struct {
	cancel  context.CancelFunc
	done    chan struct{}
	longest time.Duration
	err     error
}

// startReads reads with sql on s until stop.
func startReads(t *testing.T, s Session, sql string) *reads {
	ctx, cancel := context.WithCancel(t.Context())
	r := &reads{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for ctx.Err() == nil {
			start := time.Now()
			err := s.Exec(ctx, sql)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				r.err = err
				return
			}
			r.longest = max(r.longest, time.Since(start))
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return r
}

// stop ends the reads and returns the longest, failing the test if a read
// failed.
func (r *reads) stop(t *testing.T) time.Duration {
	t.Helper()
	r.cancel()
	<-r.done
	if r.err != nil {
		t.Fatalf("read: %v", r.err)
	}
	return r.longest
}
