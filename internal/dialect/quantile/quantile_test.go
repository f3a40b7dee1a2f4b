package quantile

import (
	"math"
	"testing"
	"time"
)

func TestNearestRank(t *testing.T) {
	var sorted []time.Duration
	for i := 1; i <= 100; i++ {
		sorted = append(sorted, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.95, 95 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0, time.Millisecond}} {
		if got := NearestRank(sorted, c.p); got != c.want {
			t.Errorf("NearestRank(1..100 ms, %g) = %s, want %s", c.p, got, c.want)
		}
	}
	if got := NearestRank(nil, 0.5); got != 0 {
		t.Errorf("NearestRank(nil) = %s, want 0", got)
	}
}

func TestMixture(t *testing.T) {
	cases := []struct {
		name string
		mix  []Normal
		p    float64
		want float64
	}{
		{"one normal p95", []Normal{{Weight: 1, Mean: 10, SD: 2}}, 0.95, 10 + 2*1.6448536},
		{"point mass", []Normal{{Weight: 5, Mean: 3}}, 0.99, 3},
		{"two point masses, 95% fast", []Normal{{Weight: 95, Mean: 1}, {Weight: 5, Mean: 100}}, 0.95, 1},
		{"two point masses, p99 slow", []Normal{{Weight: 95, Mean: 1}, {Weight: 5, Mean: 100}}, 0.99, 100},
		{"never below zero", []Normal{{Weight: 1, Mean: 0.1, SD: 10}}, 0.01, 0},
		{"empty", nil, 0.95, 0},
	}
	for _, c := range cases {
		got := Mixture(c.mix, c.p)
		if math.Abs(got-c.want) > 1e-3*max(1, c.want) {
			t.Errorf("%s: Mixture(%g) = %g, want %g", c.name, c.p, got, c.want)
		}
	}
}
