package commands

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// poll is one answer of the fake API: an execution, or an error status.
type poll struct {
	status int // 0: 200 with exec
	exec   domain.Execution
}

// fakeExecution serves polls in order to GET .../executions/exec-1, the
// last one again once they run out, and counts the requests.
func fakeExecution(t *testing.T, polls ...poll) (addr string, count func() int) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/migrations/mig-1/executions/exec-1/metrics" {
			serveFakeMetrics(w, r)
			return
		}
		if r.URL.Path != "/api/v1/migrations/mig-1/executions/exec-1" {
			t.Errorf("request to %s, want the execution", r.URL.Path)
		}
		mu.Lock()
		p := polls[min(n, len(polls)-1)]
		n++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if p.status != 0 {
			w.WriteHeader(p.status)
			_, _ = io.WriteString(w, `{"error":{"code":"X","message":"fake failure"}}`)
			return
		}
		_ = json.NewEncoder(w).Encode(p.exec)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() int { mu.Lock(); defer mu.Unlock(); return n }
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// serveFakeMetrics answers the metrics poll with one snapshot taken at t0,
// left out once the caller asks for later ones.
func serveFakeMetrics(w http.ResponseWriter, r *http.Request) {
	m := map[string]any{"baselines": []map[string]any{{"stepId": "s1", "agent": "h", "instanceId": "main",
		"baseline": domain.Baseline{AvgLatencyMs: 0.5}}}, "snapshots": []domain.Snapshot{}}
	if since, _ := strconv.ParseInt(r.URL.Query().Get("sinceMs"), 10, 64); since < t0.UnixMilli() {
		m["snapshots"] = []domain.Snapshot{{Agent: "h", Sample: domain.Sample{InstanceID: "main", At: t0, AvgLatencyMs: 0.7, TPS: 1234}}}
	}
	_ = json.NewEncoder(w).Encode(m)
}

// logN is the nth line of the fake execution's log.
func logN(n int) domain.LogEntry {
	l := domain.LogEntry{Time: t0.Add(time.Duration(n) * time.Second), Level: "info", Message: "line " + string(rune('A'+n))}
	if n == 3 {
		l.Level, l.StepID, l.Statement = "error", "s1", "CREATE TABLE t (id int)"
		l.Message = `step s1 (forward) failed on h/main: relation "t" already exists (SQLSTATE 42P07)`
	}
	return l
}

func logs(n int) []domain.LogEntry {
	out := make([]domain.LogEntry, n)
	for i := range out {
		out[i] = logN(i)
	}
	return out
}

func execState(status domain.ExecutionStatus, progress int, phase string, nLogs int) poll {
	return poll{exec: domain.Execution{ExecutionID: "exec-1", MigrationID: "mig-1", Status: status, Progress: progress,
		CurrentPhase: phase, Logs: logs(nLogs), StartedAt: t0, CompletedAt: t0.Add(3 * time.Second)}}
}

// watchCLI runs execution watch against addr, polling every millisecond.
func watchCLI(ctx context.Context, addr string, extra ...string) result {
	args := append([]string{"--address", addr, "--token", "t", "execution", "watch", "mig-1", "exec-1", "--interval", "1ms"}, extra...)
	return runCLIContext(ctx, "", args...)
}

func TestWatchPrintsNewLinesOnceAndStopsWhenDone(t *testing.T) {
	rolledBack := execState(domain.ExecutionRolledBack, 100, "", 5)
	rolledBack.exec.Error = &domain.DBError{Message: `relation "t" already exists`, SQLState: "42P07", Statement: "CREATE TABLE t (id int)"}
	rolledBack.exec.ErrorMessage = logN(3).Message
	rolledBack.exec.RollbackReason, rolledBack.exec.RollbackRequestedBy = logN(3).Message, "hotswap (automatic)"
	addr, count := fakeExecution(t,
		execState(domain.ExecutionPending, 0, "", 2),
		execState(domain.ExecutionRunning, 0, "master", 3),
		execState(domain.ExecutionRunning, 0, "master", 3),
		execState(domain.ExecutionRunning, 0, "rollback", 4),
		rolledBack,
		execState(domain.ExecutionSucceeded, 100, "", 9), // never reached
	)
	r := watchCLI(context.Background(), addr)
	if r.code != ExitError {
		t.Errorf("exit = %d, want %d (RolledBack)", r.code, ExitError)
	}
	if n := count(); n != 5 {
		t.Errorf("polls = %d, want 5: watch stops at the first terminal status", n)
	}
	for i := range 5 {
		if got := strings.Count(r.stdout, logN(i).Message); got != 1 {
			t.Errorf("log line %q printed %d times, want once\n%s", logN(i).Message, got, r.stdout)
		}
	}
	if got := strings.Count(r.stdout, "h/main: latency 0.70ms (baseline 0.50ms)"); got != 1 {
		t.Errorf("figures line printed %d times, want once\n%s", got, r.stdout)
	}
	for _, line := range []string{"==> Pending 0%\n", "==> Running 0%, phase master\n", "==> Running 0%, phase rollback\n", "==> RolledBack 100%\n"} {
		if got := strings.Count(r.stdout, line); got != 1 {
			t.Errorf("status line %q printed %d times, want once\n%s", line, got, r.stdout)
		}
	}
	wantContains(t, "stdout", r.stdout, "2026-01-02 03:04:08.000Z error [s1] step s1 (forward) failed",
		"    statement: CREATE TABLE t (id int)")
	wantContains(t, "stderr", r.stderr, "hotswap: execution exec-1 ended RolledBack: step s1 (forward) failed on h/main: "+
		`relation "t" already exists (SQLSTATE 42P07)`, "\n  statement: CREATE TABLE t (id int)")
}

func TestWatchSucceeded(t *testing.T) {
	addr, _ := fakeExecution(t, execState(domain.ExecutionRunning, 0, "master", 1), execState(domain.ExecutionSucceeded, 100, "", 2))
	r := watchCLI(context.Background(), addr)
	if r.code != ExitOK {
		t.Fatalf("exit = %d, want 0; stderr: %s", r.code, r.stderr)
	}
	wantContains(t, "stdout", r.stdout, "Watching exec-1 of migration mig-1", "==> Succeeded 100%", "Execution exec-1 succeeded in 3s.")

	r = watchCLI(context.Background(), addr, "-o", "json")
	if got := decode[domain.Execution](t, r.stdout); r.code != ExitOK || got.Status != domain.ExecutionSucceeded || len(got.Logs) != 2 {
		t.Errorf("-o json: exit %d, execution %+v; want 0 and only the final execution", r.code, got)
	}
}

func TestWatchFailedJSON(t *testing.T) {
	failed := execState(domain.ExecutionFailed, 100, "", 4)
	failed.exec.Error = &domain.DBError{Message: "syntax error", SQLState: "42601"}
	addr, _ := fakeExecution(t, failed)
	r := watchCLI(context.Background(), addr, "-o", "json")
	if got := decode[domain.Execution](t, r.stdout); r.code != ExitError || got.Status != domain.ExecutionFailed {
		t.Errorf("exit %d, execution %+v; want %d and the Failed execution", r.code, got, ExitError)
	}
	wantContains(t, "stderr", r.stderr, "execution exec-1 ended Failed: syntax error (SQLSTATE 42601)")
}

func TestWatchPollFailures(t *testing.T) {
	t.Run("server errors are retried", func(t *testing.T) {
		addr, _ := fakeExecution(t, poll{status: http.StatusServiceUnavailable}, execState(domain.ExecutionSucceeded, 100, "", 1))
		r := watchCLI(context.Background(), addr)
		if r.code != ExitOK {
			t.Errorf("exit = %d, want 0; stderr: %s", r.code, r.stderr)
		}
		// A 503 (a failover) is sent again by the client itself.
		wantContains(t, "stderr", r.stderr, "hotswap: fake failure; retrying in 250ms")
	})
	t.Run("other server errors are retried by the watch", func(t *testing.T) {
		addr, _ := fakeExecution(t, poll{status: http.StatusInternalServerError}, execState(domain.ExecutionSucceeded, 100, "", 1))
		r := watchCLI(context.Background(), addr)
		if r.code != ExitOK {
			t.Errorf("exit = %d, want 0; stderr: %s", r.code, r.stderr)
		}
		wantContains(t, "stderr", r.stderr, "polling failed (1/5), retrying: fake failure")
	})
	t.Run("refusals are not", func(t *testing.T) {
		addr, count := fakeExecution(t, poll{status: http.StatusNotFound})
		r := watchCLI(context.Background(), addr)
		if r.code != ExitError || count() != 1 {
			t.Errorf("exit = %d after %d polls, want %d after 1", r.code, count(), ExitError)
		}
		wantContains(t, "stderr", r.stderr, "hotswap: watch execution: fake failure")
	})
}

func TestWatchInterrupted(t *testing.T) {
	addr, _ := fakeExecution(t, execState(domain.ExecutionRunning, 50, "master", 1))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	r := watchCLI(ctx, addr)
	if r.code != ExitError {
		t.Errorf("exit = %d, want %d", r.code, ExitError)
	}
	wantContains(t, "stderr", r.stderr, "hotswap: stopped watching; execution exec-1 is not affected (Running 50%, phase master).",
		"Resume with: hotswap execution watch mig-1 exec-1")
	if strings.Contains(r.stderr, "cannot reach") {
		t.Errorf("the cancelled request was reported as a failure: %s", r.stderr)
	}
}

func TestNewLogsAfterTrimming(t *testing.T) {
	w := &watcher{out: printer{w: io.Discard, format: formatTable}}
	w.update(domain.Execution{Logs: logs(3)})
	// The server dropped the oldest line and appended two.
	got := w.newLogs(logs(5)[2:])
	if len(got) != 2 || got[0].Message != logN(3).Message || got[1].Message != logN(4).Message {
		t.Errorf("newLogs() = %+v, want lines 3 and 4", got)
	}
	if got := w.newLogs(logs(3)); len(got) != 0 {
		t.Errorf("newLogs() with nothing new = %+v, want none", got)
	}
}
