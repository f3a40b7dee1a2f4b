// Package monitor keeps the samples agents stream to the leader, in memory:
// one ring buffer per instance. Nothing here is committed; what an execution
// must keep is committed in batches by the orchestrator.
package monitor

import (
	"sync"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// DefaultCapacity is how many samples each instance keeps: about 30
// minutes at one sample a second.
const DefaultCapacity = 2048

// Key names an instance: the agent serving it and its id there.
type Key struct{ Agent, Instance string }

// Store holds the latest samples of every instance.
type Store struct {
	capacity int
	mu       sync.RWMutex
	rings    map[Key]*ring
}

// NewStore returns a store keeping capacity samples per instance.
func NewStore(capacity int) *Store {
	if capacity <= 0 {
		capacity = DefaultCapacity
	}
	return &Store{capacity: capacity, rings: map[Key]*ring{}}
}

// Add keeps samples from an agent; priming samples (no interval) are skipped.
func (s *Store) Add(agent string, samples []domain.Sample) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, smp := range samples {
		if smp.IntervalMs <= 0 {
			continue
		}
		k := Key{agent, smp.InstanceID}
		r, ok := s.rings[k]
		if !ok {
			r = &ring{max: s.capacity}
			s.rings[k] = r
		}
		r.push(smp)
	}
}

// Range returns an instance's samples taken in [from, to), oldest first.
func (s *Store) Range(k Key, from, to time.Time) []domain.Sample {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.rings[k]
	if !ok {
		return nil
	}
	var out []domain.Sample
	r.each(func(smp domain.Sample) {
		if !smp.At.Before(from) && smp.At.Before(to) {
			out = append(out, smp)
		}
	})
	return out
}

// Latest returns an instance's newest sample.
func (s *Store) Latest(k Key) (domain.Sample, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.rings[k]
	if !ok || len(r.buf) == 0 {
		return domain.Sample{}, false
	}
	return r.latest(), true
}

// Keys lists the instances with samples.
func (s *Store) Keys() []Key {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Key, 0, len(s.rings))
	for k := range s.rings {
		out = append(out, k)
	}
	return out
}

// ring is a circular buffer of at most max samples. It grows on demand,
// doubling, up to max: an instance that has streamed for a minute holds a
// minute of samples, not max (a full ring is about 370 KiB).
type ring struct {
	buf  []domain.Sample // the samples; oldest first until it is full
	max  int
	next int // once full: where the next sample goes, the oldest one
}

// minRing is the first allocation of a ring.
const minRing = 16

func (r *ring) push(s domain.Sample) {
	if len(r.buf) < r.max {
		if len(r.buf) == cap(r.buf) {
			r.grow()
		}
		r.buf = append(r.buf, s)
		return
	}
	r.buf[r.next] = s
	r.next = (r.next + 1) % r.max
}

// grow doubles the buffer's capacity, never past max.
func (r *ring) grow() {
	bigger := make([]domain.Sample, len(r.buf), min(max(2*cap(r.buf), minRing), r.max))
	copy(bigger, r.buf)
	r.buf = bigger
}

// latest is the newest sample of a ring holding at least one.
func (r *ring) latest() domain.Sample {
	if len(r.buf) < r.max {
		return r.buf[len(r.buf)-1]
	}
	return r.buf[(r.next-1+r.max)%r.max]
}

// each visits the samples oldest first.
func (r *ring) each(fn func(domain.Sample)) {
	n := len(r.buf)
	start := 0
	if n == r.max {
		start = r.next
	}
	for i := 0; i < n; i++ {
		fn(r.buf[(start+i)%n])
	}
}
