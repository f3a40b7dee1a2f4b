package lockwait

import (
	"context"
	"time"
)

// blockerWatch samples, from another session, who blocks the DDL session
// while one attempt runs. Its goroutine owns what it records and hands it
// over when stopped.
type blockerWatch struct {
	stopCh chan struct{}
	result chan []Blocker
}

// watchBlockers starts sampling Session.Blockers for an attempt with
// lockTimeout, until stop: several times in the second half of the lock
// timeout (see firstSample).
func (p *Policy) watchBlockers(ctx context.Context, lockTimeout time.Duration) *blockerWatch {
	w := &blockerWatch{stopCh: make(chan struct{}), result: make(chan []Blocker, 1)}
	every := pollEvery(lockTimeout)
	go func() { w.result <- p.pollBlockers(ctx, w.stopCh, firstSample(lockTimeout, every), every) }()
	return w
}

// firstSample is when the watch first asks, after the attempt's start:
// half its lock timeout, at least one interval. Asking costs a query on
// another session, which the engine may have to open (a PostgreSQL backend
// costs more to start than most DDL takes, and a fleet's first rollout
// would pay it on every database), and the watch only serves the retry
// after a lock timeout: the blockers it must name are still there in the
// second half.
func firstSample(lockTimeout, every time.Duration) time.Duration {
	return max(lockTimeout/2, every)
}

// stop ends the sampling and returns every blocker seen, in order of
// first sighting.
func (w *blockerWatch) stop() []Blocker {
	close(w.stopCh)
	return <-w.result
}

// pollBlockers samples, first after first and then every every, until
// stop is closed or ctx ends.
func (p *Policy) pollBlockers(ctx context.Context, stop <-chan struct{}, first, every time.Duration) []Blocker {
	var seen []Blocker
	timer := time.NewTimer(first)
	defer timer.Stop()
	for {
		// Wait first: most DDL is done before then, and the watch costs
		// no query and no second session.
		select {
		case <-stop:
			return seen
		case <-ctx.Done():
			return seen
		case <-timer.C:
		}
		seen = p.sampleBlockers(ctx, seen)
		timer.Reset(every)
	}
}

// sampleBlockers adds to seen the transactions now blocking the DDL. A
// failed sample is skipped: the watch is an optimisation, the lock timeout
// is the safety.
func (p *Policy) sampleBlockers(ctx context.Context, seen []Blocker) []Blocker {
	ctx, cancel := context.WithTimeout(ctx, pollQueryTimeout)
	defer cancel()
	now, err := p.Session.Blockers(ctx)
	if err != nil {
		return seen
	}
	for _, b := range now {
		seen = AddTransaction(seen, b)
	}
	return seen
}

// AddTransaction appends b to bs unless bs holds b's transaction already
// (same session, same start).
func AddTransaction(bs []Blocker, b Blocker) []Blocker {
	for _, x := range bs {
		if x.Session == b.Session && x.Started.Equal(b.Started) {
			return bs
		}
	}
	return append(bs, b)
}
