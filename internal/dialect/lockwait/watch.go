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

// watchBlockers starts sampling Session.Blockers several times per lock
// timeout, until stop.
func (p *Policy) watchBlockers(ctx context.Context) *blockerWatch {
	w := &blockerWatch{stopCh: make(chan struct{}), result: make(chan []Blocker, 1)}
	go func() { w.result <- p.pollBlockers(ctx, w.stopCh, pollEvery(p.LockTimeout)) }()
	return w
}

// stop ends the sampling and returns every blocker seen, in order of
// first sighting.
func (w *blockerWatch) stop() []Blocker {
	close(w.stopCh)
	return <-w.result
}

// pollBlockers samples until stop is closed or ctx ends.
func (p *Policy) pollBlockers(ctx context.Context, stop <-chan struct{}, every time.Duration) []Blocker {
	var seen []Blocker
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		// Wait first: most DDL is done before the first interval, and then
		// the watch costs no query and no second session.
		select {
		case <-stop:
			return seen
		case <-ctx.Done():
			return seen
		case <-ticker.C:
		}
		seen = p.sampleBlockers(ctx, seen)
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
