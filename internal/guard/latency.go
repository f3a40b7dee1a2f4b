package guard

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// Noise allowances of the per-statement limits, in standard deviations:
// of the baseline's interval means, and of a sample's mean of n calls.
const (
	spreadAllowance = 3
	callsAllowance  = 3
	// maxSettle bounds how long after sessions stopped queueing behind the
	// agent's DDL the latency rule waits before judging again.
	maxSettle = 2 * time.Second
)

// latencyRule judges each sample's statements against their baselines.
type latencyRule struct {
	th   domain.Thresholds
	base map[string]domain.StatementBaseline
	// byFingerprint: the baseline is another instance's, whose statement
	// ids mean nothing here; statements are matched by their text.
	byFingerprint bool
	settle        time.Duration // after the slowest statement's usual time
	// heldUntil: samples up to then are not judged (sessions queued
	// behind the agent's own bounded lock wait, and finishing since).
	heldUntil time.Time
}

// newLatencyRule returns the rule for b's statements, nil when none of
// them can be matched (another instance's baseline without fingerprints).
func newLatencyRule(th domain.Thresholds, b domain.Baseline) *latencyRule {
	r := &latencyRule{th: th, base: make(map[string]domain.StatementBaseline, len(b.Statements)), byFingerprint: b.Source != ""}
	for _, st := range b.Statements {
		k := r.key(st.ID, st.Fingerprint)
		if k == "" {
			continue
		}
		r.base[k] = st
		r.settle = max(r.settle, time.Duration((st.MeanMs+2*st.SDMs)*float64(time.Millisecond)))
	}
	r.settle = min(r.settle, maxSettle)
	if len(r.base) == 0 {
		return nil
	}
	return r
}

// key is how a statement is matched with its baseline: its id, or its
// fingerprint against another instance's baseline ("" when it has none).
func (r *latencyRule) key(id, fingerprint string) string {
	if r.byFingerprint {
		return fingerprint
	}
	return id
}

// verdict is what the rule found in one sample.
type verdict struct {
	judged       bool
	over         bool
	value, limit float64 // the judged statements' mean latency now, and what the baseline allows
	slow         []domain.SlowStatement
}

// held reports whether s is not to be judged: while sessions queue behind
// the agent's DDL waiting for its lock (bounded by its lock timeout, the
// lock-queue guard's business), and until their statements have finished.
func (r *latencyRule) held(s domain.Sample) bool {
	if s.QueuedBehindAgent > 0 {
		interval := time.Duration(s.IntervalMs * float64(time.Millisecond))
		r.heldUntil = s.At.Add(interval*3/2 + r.settle)
		return true
	}
	return !s.At.After(r.heldUntil)
}

// judge compares the sample's statements with their baselines. value is
// the mean latency of the judged statements at today's mix of calls,
// counting only the rise of those over their own limits; limit is the
// latency factor times their baseline mean at the same mix. It is over
// when some statement got slower and value exceeds limit, by a rise of the
// mix's mean of at least MinLatencyDeltaMs: a hot statement of 0.04 ms
// that takes 0.13 ms for a few hundred calls on a busy host is over its
// own limit and moved the mix 50% up, yet by 0.014 ms, which no
// application notices.
func (r *latencyRule) judge(s domain.Sample) verdict {
	var calls, baseTime, excess float64
	var slow []domain.SlowStatement
	for _, st := range s.Statements {
		b, ok := r.base[r.key(st.ID, st.Fingerprint)]
		if !ok || st.Calls <= 0 {
			continue // new or rare: not judged
		}
		c := float64(st.Calls)
		calls += c
		baseTime += c * b.MeanMs
		if limit := r.statementLimit(b, st.Calls); st.MeanMs > limit {
			excess += c * (st.MeanMs - b.MeanMs)
			slow = append(slow, domain.SlowStatement{ID: st.ID, Calls: st.Calls, BeforeMs: b.MeanMs, AfterMs: st.MeanMs, LimitMs: limit})
		}
	}
	if calls == 0 {
		return verdict{}
	}
	v := verdict{judged: true, value: (baseTime + excess) / calls, limit: r.th.LatencyFactor * baseTime / calls, slow: slow}
	v.over = len(slow) > 0 && v.value > v.limit && v.value-baseTime/calls >= r.th.MinLatencyDeltaMs
	slices.SortFunc(v.slow, func(x, y domain.SlowStatement) int {
		return cmp.Compare(float64(y.Calls)*(y.AfterMs-y.BeforeMs), float64(x.Calls)*(x.AfterMs-x.BeforeMs))
	})
	return v
}

// statementLimit is the mean a statement's n calls may reach: the latency
// factor times its baseline, and above the baseline by more than its
// noise (the baseline's sample-to-sample spread, scaled to a sample of n
// calls as the noise of a mean goes with 1/√calls; the spread of a mean of
// n single calls) and MinLatencyDeltaMs.
func (r *latencyRule) statementLimit(b domain.StatementBaseline, n int64) float64 {
	perSample := float64(b.Calls) / float64(max(b.Samples, 1))
	spread := b.SpreadMs * math.Sqrt(max(perSample/float64(n), 1))
	floor := max(r.th.MinLatencyDeltaMs, spreadAllowance*spread, callsAllowance*b.SDMs/math.Sqrt(float64(n)))
	return max(b.MeanMs*r.th.LatencyFactor, b.MeanMs+floor)
}
