package monitor

import (
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

func TestRingKeepsTheNewest(t *testing.T) {
	s := NewStore(4)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var batch []domain.Sample
	for i := 0; i < 6; i++ {
		batch = append(batch, domain.Sample{InstanceID: "main", At: t0.Add(time.Duration(i) * time.Second), IntervalMs: 1000, Calls: int64(i)})
	}
	batch = append(batch, domain.Sample{InstanceID: "main", At: t0.Add(10 * time.Second)}) // priming: skipped
	s.Add("a", batch)
	k := Key{"a", "main"}
	got := s.Range(k, t0, t0.Add(time.Hour))
	if len(got) != 4 || got[0].Calls != 2 || got[3].Calls != 5 {
		t.Fatalf("range = %+v, want the 4 newest (calls 2..5) oldest first", got)
	}
	if l, ok := s.Latest(k); !ok || l.Calls != 5 {
		t.Fatalf("latest = %+v, %v", l, ok)
	}
	if got := s.Range(k, t0.Add(3*time.Second), t0.Add(5*time.Second)); len(got) != 2 {
		t.Fatalf("window [3s,5s) = %d samples, want 2", len(got))
	}
}

// TestRingGrowsOnDemand: a ring allocates as its samples come, doubling up
// to the store's capacity, and never past it; full, it keeps the newest,
// oldest first.
func TestRingGrowsOnDemand(t *testing.T) {
	const capacity = 100
	s := NewStore(capacity)
	k := Key{"a", "main"}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	add := func(i int) {
		s.Add("a", []domain.Sample{{InstanceID: "main", At: t0.Add(time.Duration(i) * time.Second), IntervalMs: 1000, Calls: int64(i)}})
	}
	add(0)
	if got := cap(s.rings[k].buf); got != minRing {
		t.Fatalf("a ring with one sample holds room for %d, want %d", got, minRing)
	}
	for i := 1; i < 40; i++ {
		add(i)
	}
	if got := cap(s.rings[k].buf); got != 64 {
		t.Errorf("a ring with 40 samples holds room for %d, want 64", got)
	}
	if got := s.Range(k, t0, t0.Add(time.Hour)); len(got) != 40 || got[0].Calls != 0 || got[39].Calls != 39 {
		t.Errorf("range of a growing ring = %d samples from %d, want 40 from 0", len(got), got[0].Calls)
	}
	for i := 40; i < 250; i++ {
		add(i)
	}
	if got := cap(s.rings[k].buf); got != capacity {
		t.Errorf("a full ring holds room for %d, want %d (the capacity)", got, capacity)
	}
	got := s.Range(k, t0, t0.Add(time.Hour))
	if len(got) != capacity || got[0].Calls != 150 || got[capacity-1].Calls != 249 {
		t.Fatalf("range of a full ring = %d samples, %d..%d, want %d, 150..249", len(got), got[0].Calls, got[len(got)-1].Calls, capacity)
	}
	if l, ok := s.Latest(k); !ok || l.Calls != 249 {
		t.Errorf("latest = %d, %v, want 249", l.Calls, ok)
	}
}
