// Package guard decides from an instance's samples whether a rollout must
// roll back (latency, lock waits, CPU) or pause (replication lag). The
// agent runs it next to the DDL so it can cancel at once; the leader runs it
// for the rules that span instances. A short confirmation keeps one noisy
// sample from deciding.
package guard

import (
	"github.com/hotswap-db/hotswap/internal/domain"
)

// Compute averages the samples that saw traffic into a baseline.
func Compute(samples []domain.Sample) domain.Baseline {
	var b domain.Baseline
	var latW float64
	for _, s := range samples {
		if s.IntervalMs <= 0 {
			continue
		}
		if b.Samples == 0 || s.At.Before(b.From) {
			b.From = s.At
		}
		if s.At.After(b.To) {
			b.To = s.At
		}
		b.Samples++
		b.TPS += s.TPS
		b.CPUPercent += s.CPUPercent
		b.LagSeconds += s.ReplicationLagSeconds
		if s.Calls > 0 {
			w := float64(s.Calls)
			latW += w
			b.AvgLatencyMs += s.AvgLatencyMs * w
			b.P95LatencyMs += s.P95LatencyMs * w
		}
	}
	if b.Samples > 0 {
		n := float64(b.Samples)
		b.TPS, b.CPUPercent, b.LagSeconds = b.TPS/n, b.CPUPercent/n, b.LagSeconds/n
	}
	if latW > 0 {
		b.AvgLatencyMs, b.P95LatencyMs = b.AvgLatencyMs/latW, b.P95LatencyMs/latW
	}
	return b
}
