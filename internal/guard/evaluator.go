package guard

import (
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// Rollback watches one instance for the rollback rules: latency against the
// baseline, lock waits, sustained CPU. Feed it every sample in order.
type Rollback struct {
	th      domain.Thresholds
	base    domain.Baseline
	latency *latencyRule // per statement; nil: judged on the average
	streak  map[string]int
	onset   map[string]time.Time
	cpuHot  time.Time // start of the current run of samples over the domain.CounterCPU limit
}

// NewRollback returns an evaluator of the rollback rules. A baseline with
// a Source (another instance's) has its statements matched by fingerprint.
func NewRollback(th domain.Thresholds, base domain.Baseline) *Rollback {
	r := &Rollback{th: th.WithDefaults(), base: base, streak: map[string]int{}, onset: map[string]time.Time{}}
	if len(base.Statements) > 0 {
		r.latency = newLatencyRule(r.th, base)
	}
	return r
}

// JudgedStatements is how many of the baseline's statements the latency
// rule judges one by one (0: it judges the average).
func (r *Rollback) JudgedStatements() int {
	if r.latency == nil {
		return 0
	}
	return len(r.latency.base)
}

// LatencyArmed reports whether the latency rule judges this baseline's
// samples, and if not, why.
func (r *Rollback) LatencyArmed() (bool, string) {
	switch {
	case r.base.LatencyNotArmed != "":
		return false, r.base.LatencyNotArmed
	case r.latency == nil && r.base.AvgLatencyMs <= 0:
		return false, "the baseline window saw no statement complete"
	}
	return true, ""
}

// averageLimit is the average latency a baseline without statement
// figures allows, 0 when there is no baseline to compare with.
func (r *Rollback) averageLimit() float64 {
	if r.base.AvgLatencyMs <= 0 || r.base.LatencyNotArmed != "" {
		return 0
	}
	return max(r.base.AvgLatencyMs*r.th.LatencyFactor, r.base.AvgLatencyMs+r.th.MinLatencyDeltaMs)
}

// Observe takes the next sample and returns a decision when a rule is
// confirmed.
func (r *Rollback) Observe(s domain.Sample) (domain.Decision, bool) {
	if s.IntervalMs <= 0 {
		return domain.Decision{}, false
	}
	if d, ok := r.observeLatency(s); ok {
		return d, true
	}
	if d, ok := r.confirm(domain.CounterLockWait, s, s.LockWaitMs, r.th.LockWaitMs, s.LockWaitMs > r.th.LockWaitMs); ok {
		return d, true
	}
	return r.observeCPU(s)
}

// observeLatency applies the latency rule: per statement when the
// baseline has statement figures, else on the average.
func (r *Rollback) observeLatency(s domain.Sample) (domain.Decision, bool) {
	if r.base.LatencyNotArmed != "" {
		return domain.Decision{}, false
	}
	if r.latency == nil {
		limit := r.averageLimit()
		if limit <= 0 || s.Calls <= 0 {
			return domain.Decision{}, false
		}
		return r.confirm(domain.CounterLatency, s, s.AvgLatencyMs, limit, s.AvgLatencyMs > limit)
	}
	if r.latency.held(s) {
		return domain.Decision{}, false
	}
	v := r.latency.judge(s)
	if !v.judged {
		return domain.Decision{}, false
	}
	d, ok := r.confirm(domain.CounterLatency, s, v.value, v.limit, v.over)
	d.Statements = v.slow
	return d, ok
}

// confirm counts consecutive samples over a limit and decides once there
// are enough of them.
func (r *Rollback) confirm(counter string, s domain.Sample, value, limit float64, over bool) (domain.Decision, bool) {
	if !over {
		r.streak[counter] = 0
		return domain.Decision{}, false
	}
	if r.streak[counter] == 0 {
		r.onset[counter] = s.At
	}
	r.streak[counter]++
	if r.streak[counter] < r.th.ConfirmSamples {
		return domain.Decision{}, false
	}
	return domain.Decision{Action: "rollback", Counter: counter, InstanceID: s.InstanceID, Value: value, Threshold: limit,
		OnsetAt: r.onset[counter], DetectedAt: s.At}, true
}

func (r *Rollback) observeCPU(s domain.Sample) (domain.Decision, bool) {
	if s.CPUPercent <= r.th.CPUPercent {
		r.cpuHot = time.Time{}
		return domain.Decision{}, false
	}
	if r.cpuHot.IsZero() {
		r.cpuHot = s.At
	}
	if s.At.Sub(r.cpuHot) < time.Duration(r.th.CPUForMs)*time.Millisecond {
		return domain.Decision{}, false
	}
	return domain.Decision{Action: "rollback", Counter: domain.CounterCPU, InstanceID: s.InstanceID, Value: s.CPUPercent,
		Threshold: r.th.CPUPercent, OnsetAt: r.cpuHot, DetectedAt: s.At}, true
}

// Lag watches replication lag on one instance: over the threshold it says
// pause; once back under half the threshold it says resume.
type Lag struct {
	th     domain.Thresholds
	paused bool
	streak int
	onset  time.Time
}

// NewLag returns an evaluator of the replication lag rule.
func NewLag(th domain.Thresholds, paused bool) *Lag {
	return &Lag{th: th.WithDefaults(), paused: paused}
}

// Observe takes the next sample and returns pause or resume when confirmed.
func (l *Lag) Observe(s domain.Sample) (domain.Decision, bool) {
	limit := l.th.ReplicationLagSeconds
	crossing := s.ReplicationLagSeconds > limit
	action, threshold := "pause", limit
	if l.paused {
		crossing, action, threshold = s.ReplicationLagSeconds < limit/2, "resume", limit/2
	}
	if !crossing {
		l.streak = 0
		return domain.Decision{}, false
	}
	if l.streak == 0 {
		l.onset = s.At
	}
	l.streak++
	if l.streak < l.th.ConfirmSamples {
		return domain.Decision{}, false
	}
	l.paused, l.streak = !l.paused, 0
	return domain.Decision{Action: action, Counter: domain.CounterReplicationLag, InstanceID: s.InstanceID, Value: s.ReplicationLagSeconds,
		Threshold: threshold, OnsetAt: l.onset, DetectedAt: s.At}, true
}
