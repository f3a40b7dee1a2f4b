package commands

import (
	"fmt"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// smoothWindow is how far back the figures a watch prints are averaged:
// a one-second TPS sample swings between 0 and thousands on a bursty
// workload, its mean over a few snapshots does not.
const smoothWindow = 15 * time.Second

// smoother keeps each instance's recent snapshots and averages them.
type smoother struct {
	recent map[string][]domain.Sample
}

// add records a snapshot of instance and returns the mean of its
// snapshots within smoothWindow of it, and how many there were.
func (s *smoother) add(instance string, x domain.Sample) (domain.Sample, int) {
	if s.recent == nil {
		s.recent = map[string][]domain.Sample{}
	}
	kept := s.recent[instance][:0:0]
	for _, old := range s.recent[instance] {
		if x.At.Sub(old.At) < smoothWindow {
			kept = append(kept, old)
		}
	}
	kept = append(kept, x)
	s.recent[instance] = kept
	return meanSample(kept), len(kept)
}

// meanSample averages the rates and latencies of samples; the gauges
// (lock waiters, lag) are the newest sample's.
func meanSample(samples []domain.Sample) domain.Sample {
	m := samples[len(samples)-1]
	var tps, lat, p99, cpu float64
	for _, s := range samples {
		tps, lat, p99, cpu = tps+s.TPS, lat+s.AvgLatencyMs, p99+s.P99LatencyMs, cpu+s.CPUPercent
	}
	n := float64(len(samples))
	m.TPS, m.AvgLatencyMs, m.P99LatencyMs, m.CPUPercent = tps/n, lat/n, p99/n, cpu/n
	return m
}

// smoothedLine is figuresLine over the mean, saying what it averages.
func smoothedLine(mean domain.Sample, n int, b domain.Baseline) string {
	line := figuresLine(mean, b)
	if n > 1 {
		line += fmt.Sprintf(" (mean of the last %d snapshots, %s)", n, smoothWindow)
	}
	return line
}

// countdown is the monitor window's time left, rounded to the 5 s steps a
// watch prints, and whether the window is open at now.
func countdown(e domain.Execution, now time.Time) (time.Duration, bool) {
	if e.MonitorUntil.IsZero() || !now.Before(e.MonitorUntil) || e.Status.Terminal() {
		return 0, false
	}
	left := e.MonitorUntil.Sub(now)
	return ((left + 4999*time.Millisecond) / (5 * time.Second)) * 5 * time.Second, true
}
