// Package servershare lets the connections to the databases of one server
// share the answers to questions about the whole server (its version and
// role, its replication links, its sessions): an agent serving 100
// databases of one PostgreSQL asks such a question once, not 100 times.
//
// A Cache is owned by its user (the agent makes one and hands it to every
// connection it opens); there is no package-level state. Questions about
// one database are never asked through it.
package servershare

import (
	"context"
	"sync"
	"time"
)

// Cache holds the latest answer to each question about each server, and
// the question being asked now, so that concurrent askers wait for it
// instead of asking again. It is safe for concurrent use; the zero value
// is not usable: call New.
type Cache struct {
	mu      sync.Mutex
	entries map[key]*entry
	answers uint64 // answers kept so far: the number of the latest
	now     func() time.Time
}

// key names one question about one server.
type key struct{ server, question string }

// entry is a question's latest answer, or the asking in flight.
type entry struct {
	at      time.Time // when the answer was asked for
	answer  any
	round   uint64        // the round the answer was asked in (WithRound); 0: none
	ok      bool          // answer holds an answer
	n       uint64        // the answer's number, in the order answers were kept
	pending chan struct{} // closed when the asking in flight ends; nil when none
}

// New returns an empty Cache.
func New() *Cache { return NewWithClock(time.Now) }

// NewWithClock returns an empty Cache that reads the time from now.
func NewWithClock(now func() time.Time) *Cache {
	return &Cache{entries: map[key]*entry{}, now: now}
}

// Get returns the answer to question about server: the latest one when it
// was asked for less than maxAge ago, else the answer of the asking in
// flight, else what ask answers now (then kept for the next callers). An
// error is never kept: when the asking in flight fails, one of its waiters
// asks in turn, so that one database that cannot answer does not fail the
// others, and a server slow to answer is never asked by all its databases
// at once. A nil c asks every time.
func Get[T any](ctx context.Context, c *Cache, server, question string, maxAge time.Duration,
	ask func(context.Context) (T, error)) (T, error) {
	v, _, err := GetNewer(ctx, c, server, question, maxAge, 0, ask)
	return v, err
}

// Last returns the latest answer to question about server when it was
// asked for less than maxAge ago, whatever the callers have seen of it: the
// fallback of a caller whose own asking failed or ran out of time while the
// server's state is not expected to have changed since. A nil c has none.
func Last[T any](c *Cache, server, question string, maxAge time.Duration) (T, bool) {
	var zero T
	if c == nil {
		return zero, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[key{server, question}]
	if e == nil || !e.ok || c.now().Sub(e.at) >= maxAge {
		return zero, false
	}
	v, ok := e.answer.(T)
	return v, ok
}

// roundKey is the context key of a round (WithRound).
type roundKey struct{}

// WithRound returns a context that marks one round of questions, such as
// the samples an agent takes in one tick of its sampling loop: within one
// round, an answer asked in that round is fresh whatever its age, as the
// tick's one reading of the host's figures serves every database it
// samples. round must differ from round to round and not be 0.
func WithRound(ctx context.Context, round uint64) context.Context {
	return context.WithValue(ctx, roundKey{}, round)
}

// roundOf returns the round ctx belongs to, 0 when none.
func roundOf(ctx context.Context) uint64 {
	r, _ := ctx.Value(roundKey{}).(uint64)
	return r
}

// GetNewer is Get for a caller that must not be given an answer it has
// had already: it also returns the answer's number, and an answer whose
// number is not above seen is asked again. A sampler passes the number of
// the answer it used last, so that two of its samples never share one.
func GetNewer[T any](ctx context.Context, c *Cache, server, question string, maxAge time.Duration, seen uint64,
	ask func(context.Context) (T, error)) (T, uint64, error) {
	if c == nil {
		v, err := ask(ctx)
		return v, 0, err
	}
	k := key{server, question}
	for {
		answer, n, ok, wait := c.lookup(k, maxAge, seen, roundOf(ctx))
		switch {
		case ok:
			return answer.(T), n, nil
		case wait == nil: // the caller's turn to ask
			return askAndKeep(ctx, c, k, ask)
		}
		select {
		case <-wait:
		case <-ctx.Done():
			var zero T
			return zero, 0, ctx.Err()
		}
	}
}

// lookup returns a fresh answer (ok) and its number, or the channel of the
// asking in flight, or, when there is neither, marks the caller as the one
// asking (nil channel, !ok).
func (c *Cache) lookup(k key, maxAge time.Duration, seen, round uint64) (answer any, n uint64, ok bool, wait chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[k]
	if e == nil {
		e = &entry{}
		c.entries[k] = e
	}
	switch {
	case e.ok && e.n > seen && (c.now().Sub(e.at) < maxAge || round != 0 && e.round == round):
		return e.answer, e.n, true, nil
	case e.pending != nil:
		return nil, 0, false, e.pending
	}
	e.pending = make(chan struct{})
	return nil, 0, false, nil
}

// askAndKeep asks, keeps a successful answer under the next number and
// wakes the waiters (also when ask panics: they then ask themselves).
func askAndKeep[T any](ctx context.Context, c *Cache, k key, ask func(context.Context) (T, error)) (answer T, n uint64, err error) {
	at := c.now()
	failed := true
	defer func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		e := c.entries[k]
		if !failed {
			c.answers++
			n = c.answers
			e.answer, e.ok, e.at, e.n, e.round = answer, true, at, n, roundOf(ctx)
		}
		close(e.pending)
		e.pending = nil
	}()
	answer, err = ask(ctx)
	failed = err != nil
	return answer, 0, err
}
