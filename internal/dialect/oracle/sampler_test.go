package oracle

import (
	"database/sql/driver"
	"github.com/hotswap-db/hotswap/internal/domain"
	"math"
	"slices"
	"testing"
	"time"
)

// near reports whether a and b agree to 1e-9.
func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestDeltas computes an interval's figures from two recorded readings.
func TestDeltas(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	prev := &counters{at: t0, stats: map[string]int64{"user commits": 1000, "user rollbacks": 10, "enqueue deadlocks": 3},
		sql: map[string]sqlStat{
			"a1": {executions: 100, elapsedUs: 100_000}, // 1 ms each so far
			"b2": {executions: 50, elapsedUs: 500_000},
			"c3": {executions: 9, elapsedUs: 90_000}, // idle in the interval
		}, responseCs: -1, hostCPU: -1}
	cur := &counters{at: t0.Add(2 * time.Second), stats: map[string]int64{"user commits": 1190, "user rollbacks": 20, "enqueue deadlocks": 4},
		sql: map[string]sqlStat{
			"a1": {executions: 190, elapsedUs: 190_000},   // 90 calls, 1 ms each
			"b2": {executions: 60, elapsedUs: 700_000},    // 10 calls, 20 ms each
			"c3": {executions: 9, elapsedUs: 90_000},      // no call
			"d4": {executions: 1000, elapsedUs: 999_9999}, // new in the cache: no delta yet
		}, responseCs: 0.5, hostCPU: 37.5}
	var out = sampleOf(prev, cur)
	if !near(out.IntervalMs, 2000) || !near(out.TPS, 100) || out.Deadlocks != 1 || !near(out.CPUPercent, 37.5) {
		t.Errorf("interval %v tps %v deadlocks %v cpu %v, want 2000 100 1 37.5", out.IntervalMs, out.TPS, out.Deadlocks, out.CPUPercent)
	}
	if out.Calls != 100 || !near(out.AvgLatencyMs, (90*1+10*20)/100.0) {
		t.Errorf("calls %d avg %v, want 100 and 2.9 ms (weighted by executions)", out.Calls, out.AvgLatencyMs)
	}
	if out.P95LatencyMs < 19.9 || out.P95LatencyMs > 20.1 || out.P99LatencyMs < 19.9 {
		t.Errorf("p95 %v p99 %v, want about 20 ms: the slowest tenth of the calls", out.P95LatencyMs, out.P99LatencyMs)
	}
	ids := []string{}
	for _, s := range out.Statements {
		ids = append(ids, s.ID)
	}
	if !slices.Equal(ids, []string{"a1", "b2"}) || out.Statements[1].MeanMs != 20 || out.Statements[0].Fingerprint != "a1" {
		t.Errorf("statements = %+v, want a1 then b2 with their means", out.Statements)
	}
	// Without statement figures the mean is the response time per
	// transaction (centiseconds).
	cur.sql, prev.sql = map[string]sqlStat{}, map[string]sqlStat{}
	if out := sampleOf(prev, cur); out.Calls != 0 || !near(out.AvgLatencyMs, 5) {
		t.Errorf("fallback: calls %d avg %v, want 0 and 5 ms", out.Calls, out.AvgLatencyMs)
	}
	// Counters that went backwards (an instance restart) give no negative rate.
	cur.stats["user commits"] = 5
	if out := sampleOf(prev, cur); out.TPS < 0 {
		t.Errorf("tps %v after a restart, want >= 0", out.TPS)
	}
}

// TestSampleQueries reads two samples from the double: the first primes
// the deltas, the second has the interval's figures; the agent's own
// statements are left out by module and its sessions by program.
func TestSampleQueries(t *testing.T) {
	f := newFake(t)
	reading := 0
	f.query = func(q string, args []driver.Value) (*fakeRows, error) {
		switch q {
		case sysstatSQL:
			reading++
			return rowsOf(row("user commits", int64(100*reading)), row("user rollbacks", int64(0)), row("enqueue deadlocks", int64(0))), nil
		case sysmetricSQL:
			return rowsOf(row("Response Time Per Txn", 0.2), row("Host CPU Utilization (%)", 12.0)), nil
		case sqlareaSQL:
			if args[0] != ProgramName {
				t.Errorf("v$sqlarea filtered on module %v, want %s", args[0], ProgramName)
			}
			return rowsOf(row("abc", int64(10*reading), float64(20_000*reading))), nil
		case sessionsSQL:
			if args[0] != ProgramName || args[1] != ProgramName {
				t.Errorf("v$session filtered on %v, want %s", args, ProgramName)
			}
			return rowsOf(row(int64(12), int64(3), int64(2), float64(1_500_000), int64(1))), nil
		case applyLagSQL:
			return rowsOf(), nil
		}
		return nil, nil
	}
	s := f.conn().NewSampler()
	defer s.Close()
	first, err := s.Sample(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if first.IntervalMs != 0 || first.ActiveConnections != 12 || first.LockWaiters != 2 || first.LockWaitMs != 1500 || first.QueuedBehindAgent != 1 {
		t.Errorf("first sample = %+v, want no interval, 12 connections, 2 lock waiters (1500 ms), 1 behind the agent", first)
	}
	second, err := s.Sample(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if second.IntervalMs <= 0 || second.Calls != 10 || !near(second.AvgLatencyMs, 2) || second.ActiveSessions != 3 {
		t.Errorf("second sample = %+v, want 10 calls of 2 ms", second)
	}
}

// sampleOf applies deltas.
func sampleOf(prev, cur *counters) (out domain.Sample) {
	deltas(prev, cur, &out)
	return out
}
