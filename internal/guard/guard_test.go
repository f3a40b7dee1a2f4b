package guard

import (
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func sample(i int, mutate func(*domain.Sample)) domain.Sample {
	s := domain.Sample{InstanceID: "main", At: t0.Add(time.Duration(i) * 250 * time.Millisecond), IntervalMs: 250,
		Calls: 100, AvgLatencyMs: 2, TPS: 400, CPUPercent: 20}
	if mutate != nil {
		mutate(&s)
	}
	return s
}

func TestRollbackRules(t *testing.T) {
	base := domain.Baseline{AvgLatencyMs: 2, Samples: 10}
	cases := []struct {
		name        string
		th          domain.Thresholds
		samples     []func(*domain.Sample)
		wantCounter string // "" = no decision
		wantAt      int    // index of the deciding sample
	}{
		{name: "steady load never decides", samples: repeat(20, nil)},
		{name: "one noisy sample does not decide", samples: []func(*domain.Sample){nil, lat(50), nil, nil, lat(50), nil}},
		{name: "latency over 1.5x, confirmed", samples: []func(*domain.Sample){nil, lat(3.5), lat(4)},
			wantCounter: domain.CounterLatency, wantAt: 2},
		{name: "latency under 1.5x is fine", samples: repeat(10, lat(2.9))},
		{name: "no calls, no latency verdict", samples: repeat(5, func(s *domain.Sample) { s.Calls, s.AvgLatencyMs = 0, 0 })},
		{name: "lock wait over 5s", samples: []func(*domain.Sample){lock(4000), lock(5100), lock(5400)},
			wantCounter: domain.CounterLockWait, wantAt: 2},
		{name: "cpu hot but not for long enough", th: domain.Thresholds{CPUForMs: 2000}, samples: repeat(8, cpu(95))},
		{name: "cpu hot long enough", th: domain.Thresholds{CPUForMs: 2000}, samples: repeat(9, cpu(95)),
			wantCounter: domain.CounterCPU, wantAt: 8},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRollback(tc.th, base)
			for i, m := range tc.samples {
				d, ok := r.Observe(sample(i, m))
				if !ok {
					continue
				}
				if tc.wantCounter == "" || d.Counter != tc.wantCounter || i != tc.wantAt {
					t.Fatalf("got %s at sample %d, want %q at %d", d.Counter, i, tc.wantCounter, tc.wantAt)
				}
				if d.OnsetAt.After(d.DetectedAt) || d.Action != "rollback" {
					t.Errorf("decision %+v: onset after detection or wrong action", d)
				}
				return
			}
			if tc.wantCounter != "" {
				t.Fatalf("no decision, want %s", tc.wantCounter)
			}
		})
	}
}

func TestLagPausesAndResumes(t *testing.T) {
	l := NewLag(domain.Thresholds{ReplicationLagSeconds: 10}, false)
	lags := []float64{1, 12, 15, 14, 8, 4, 3}
	var got []string
	for i, v := range lags {
		if d, ok := l.Observe(sample(i, func(s *domain.Sample) { s.ReplicationLagSeconds = v })); ok {
			got = append(got, d.Action)
		}
	}
	if len(got) != 2 || got[0] != "pause" || got[1] != "resume" {
		t.Fatalf("decisions = %v, want [pause resume]", got)
	}
}

func TestComputeWeighsByCalls(t *testing.T) {
	b := Compute([]domain.Sample{
		{At: t0, IntervalMs: 1000, Calls: 300, AvgLatencyMs: 1, TPS: 300},
		{At: t0.Add(time.Second), IntervalMs: 1000, Calls: 100, AvgLatencyMs: 5, TPS: 100},
		{At: t0.Add(2 * time.Second), IntervalMs: 0, Calls: 1000, AvgLatencyMs: 100}, // priming sample: ignored
	})
	if b.Samples != 2 || b.AvgLatencyMs != 2 || b.TPS != 200 {
		t.Fatalf("baseline = %+v, want 2 samples, 2 ms, 200 tps", b)
	}
}

func repeat(n int, m func(*domain.Sample)) []func(*domain.Sample) {
	out := make([]func(*domain.Sample), n)
	for i := range out {
		out[i] = m
	}
	return out
}

func lat(ms float64) func(*domain.Sample) { return func(s *domain.Sample) { s.AvgLatencyMs = ms } }
func lock(ms float64) func(*domain.Sample) {
	return func(s *domain.Sample) { s.LockWaitMs, s.LockWaiters = ms, 1 }
}
func cpu(p float64) func(*domain.Sample) { return func(s *domain.Sample) { s.CPUPercent = p } }
