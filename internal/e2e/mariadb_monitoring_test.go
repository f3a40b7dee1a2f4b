package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// mariaLoad runs the query format writes for i in clients loops on the
// primary, as literal SQL (one digest), until stop is called or the test
// ends.
func (m *mariaBed) mariaLoad(t *testing.T, clients int, format func(i int) string) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	db := mariaDB(t, m.primary)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := c; ctx.Err() == nil; i += clients {
				rows, err := db.QueryContext(ctx, format(i))
				if err == nil {
					rows.Close()
				}
			}
		})
	}
	stop = func() { cancel(); wg.Wait() }
	t.Cleanup(stop)
	return stop
}

// waitMariaBaseline waits until the primary's samples show the
// application's statements, then a baseline window's worth.
func (m *mariaBed) waitMariaBaseline(t *testing.T) {
	t.Helper()
	eventually(t, 30*time.Second, "samples with traffic", func() bool {
		var h struct {
			Instances []struct {
				InstanceID string         `json:"instanceId"`
				Counters   *domain.Sample `json:"counters"`
			}
		}
		r := m.b.api.do("GET", "/api/v1/databases/shop/health", nil)
		if r.Status != http.StatusOK {
			return false
		}
		r.decode(t, &h)
		for _, in := range h.Instances {
			if in.Counters != nil && in.Counters.Calls > 0 {
				return true
			}
		}
		return false
	})
	time.Sleep(4 * time.Second) // a baseline window's worth
}

// TestMariaDBRollbackOnLatency: a migration drops an index a hot query
// needs; the latency from performance_schema's statement digests rises and
// the execution rolls back, naming latency, and the index is back.
func TestMariaDBRollbackOnLatency(t *testing.T) {
	m := newMariaBed(t)
	m.exec(t, "CREATE TABLE orders (id int PRIMARY KEY, k int, pad varchar(60), KEY orders_k (k))",
		"INSERT INTO orders SELECT seq, seq, REPEAT('x', 50) FROM seq_1_to_200000", "ANALYZE TABLE orders")
	for _, r := range m.replicas {
		if err := r.WaitCaughtUp(t.Context(), m.primary); err != nil {
			t.Fatal(err)
		}
	}
	m.mariaLoad(t, 2, func(i int) string { return fmt.Sprintf("SELECT id FROM orders WHERE k = %d", i%200000+1) })
	m.waitMariaBaseline(t)

	mig := m.migration("drop_orders_k", "Direct", "DROP INDEX orders_k ON orders", "CREATE INDEX IF NOT EXISTS orders_k ON orders (k)")
	e := m.b.waitTerminal(mig, m.b.execute(mig, monitored(nil)), 90*time.Second)
	if e.Status != domain.ExecutionRolledBack || !strings.Contains(e.RollbackReason, "latency") {
		t.Fatalf("execution = %s (%q), want RolledBack for latency\n%s", e.Status, e.RollbackReason, logText(e))
	}
	var n int
	err := mariaDB(t, m.primary).QueryRowContext(t.Context(), `SELECT count(*) FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = 'app' AND TABLE_NAME = 'orders' AND INDEX_NAME = 'orders_k'`).Scan(&n)
	if err != nil || n != 1 {
		t.Errorf("index orders_k rows = %d, %v: the rollback did not put it back", n, err)
	}
	ds := decisionsOf(t, m.b, mig, e.ExecutionID)
	if len(ds) != 1 || ds[0].Counter != domain.CounterLatency || ds[0].Value <= ds[0].Threshold || ds[0].RollbackFinishedAt.IsZero() {
		t.Fatalf("decisions = %+v, want one latency decision with value over threshold and rollback finished", ds)
	}
	t.Logf("latency %.2fms over %.2fms: detected %s after onset, rolled back %s after detection",
		ds[0].Value, ds[0].Threshold, ds[0].DetectedAt.Sub(ds[0].OnsetAt), ds[0].RollbackFinishedAt.Sub(ds[0].DetectedAt))
}
