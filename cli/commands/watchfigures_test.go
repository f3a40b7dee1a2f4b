package commands

import (
	"context"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

func TestWatchRequestedRollbackExitsZero(t *testing.T) {
	asked := execState(domain.ExecutionRolledBack, 100, "", 2)
	asked.exec.RollbackRequested, asked.exec.RollbackRequestedBy, asked.exec.RollbackReason = true, "admin", "latency up"
	addr, _ := fakeExecution(t, execState(domain.ExecutionRunning, 50, "rollback", 1), asked)
	r := watchCLI(context.Background(), addr)
	if r.code != ExitOK {
		t.Fatalf("exit = %d, want 0 for a rollback someone asked for that succeeded; stderr: %s", r.code, r.stderr)
	}
	wantContains(t, "stdout", r.stdout, "Execution exec-1 rolled back as admin asked (latency up): the rollback succeeded.")

	byGuard := asked
	byGuard.exec.RollbackRequestedBy = "hotswap (guard)"
	addr, _ = fakeExecution(t, byGuard)
	if r := watchCLI(context.Background(), addr); r.code != ExitError {
		t.Errorf("exit = %d, want %d when HotSwap's guard rolled the execution back", r.code, ExitError)
	}
}

func TestSmootherAveragesOverTheWindow(t *testing.T) {
	var s smoother
	var got domain.Sample
	var n int
	for i, tps := range []float64{0, 2434, 0, 2434} {
		got, n = s.add("h/main", domain.Sample{At: t0.Add(time.Duration(i) * 3 * time.Second), TPS: tps, LockWaiters: i})
	}
	if n != 4 || got.TPS != 1217 || got.LockWaiters != 3 {
		t.Errorf("mean = %.0f tps over %d, waiters %d; want 1217 over 4, the newest gauge 3", got.TPS, n, got.LockWaiters)
	}
	got, n = s.add("h/main", domain.Sample{At: t0.Add(time.Minute), TPS: 100})
	if n != 1 || got.TPS != 100 {
		t.Errorf("after a quiet minute: %.0f tps over %d, want 100 over 1 (older snapshots leave the window)", got.TPS, n)
	}
	if _, n := s.add("other/main", domain.Sample{At: t0.Add(time.Minute), TPS: 5}); n != 1 {
		t.Errorf("another instance shares the window: %d snapshots, want 1", n)
	}
}

func TestCountdown(t *testing.T) {
	e := domain.Execution{Status: domain.ExecutionRunning, MonitorUntil: t0.Add(12 * time.Second)}
	if left, open := countdown(e, t0); !open || left != 15*time.Second {
		t.Errorf("countdown = %s, %v; want 15s (12 s rounded up to the 5 s a watch prints), open", left, open)
	}
	if _, open := countdown(e, t0.Add(13*time.Second)); open {
		t.Error("countdown open after the window ended")
	}
}
