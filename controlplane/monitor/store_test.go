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
