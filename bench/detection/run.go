package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/pgbench"
)

// terminalTimeout bounds one execution, from start to RolledBack.
const terminalTimeout = 90 * time.Second

// result is what one run measured. Durations are from the onset: the
// moment DROP INDEX committed.
type result struct {
	start     time.Time // the execution was asked for
	onset     time.Time
	decision  time.Duration // the agent's sample that decided (detectedAt)
	committed time.Duration // the decision committed on the leader
	finished  time.Duration // the rollback finished (index back)
	rollback  time.Duration // from the decision to the rollback finished
	decidedBy string
	value     float64 // latency the decision saw, ms
	threshold float64 // the threshold it crossed, ms
	app       appView
	// What a monitor polling every o.pollEvery would have done, computed:
	// its decision at the first tick after the onset, and its rollback
	// finished as long after that as HotSwap's was after its decision.
	pollDecision time.Duration
	pollFinished time.Duration
}

// runAll starts the workload, waits for a baseline and runs the migrations
// one after the other, with o.settle of load between them; then it reads
// the application's view of each run from pgbench's log, once, so that
// reading it does not load the machine during a baseline.
func (e *env) runAll(ctx context.Context) ([]result, error) {
	prefix := filepath.Join(e.dir, "app")
	bench, err := e.workload(ctx, prefix)
	if err != nil {
		return nil, err
	}
	defer bench.Stop()
	if err := e.waitSamples(ctx); err != nil {
		return nil, err
	}
	var out []result
	for i := 1; i <= e.o.runs; i++ {
		r, err := e.oneRun(ctx, i)
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", i, err)
		}
		fmt.Printf("run %d: latency %.2fms over the threshold %.2fms; decision %s, rollback finished %s after DROP INDEX committed\n",
			i, r.value, r.threshold, ms(r.decision), ms(r.finished))
		out = append(out, r)
	}
	txns, err := pgbench.ReadLog(prefix)
	if err != nil {
		return nil, fmt.Errorf("workload log: %w", err)
	}
	for i := range out {
		out[i].app = measureApp(txns, out[i].start, out[i].onset.Add(out[i].finished+2*time.Second))
	}
	return out, nil
}

// oneRun executes DROP INDEX, waits for the guard to roll it back and
// reads the times, then waits o.settle of normal load and up to
// o.pollEvery more (the next run's baseline; after the last run, the time
// pgbench takes to write its log).
func (e *env) oneRun(ctx context.Context, n int) (result, error) {
	start := time.Now()
	mig, exec, err := e.execute(ctx, n)
	if err != nil {
		return result{}, err
	}
	ex, err := e.waitTerminal(ctx, mig, exec)
	if err != nil {
		return result{}, err
	}
	ended := time.Now()
	r, err := e.figures(ctx, ex)
	if err != nil {
		return result{}, err
	}
	r.start = start
	// A random extra wait puts the next onset at a random phase of the
	// polling monitor's ticks, as it would be in real life.
	wait := e.o.settle + rand.N(e.o.pollEvery)
	if n == e.o.runs {
		wait = 3 * time.Second
	}
	return r, sleep(ctx, time.Until(ended.Add(wait)))
}

// execute creates migration n (DROP INDEX items_k, rolled back by
// recreating it) and starts it with a monitor window.
func (e *env) execute(ctx context.Context, n int) (migID, execID string, err error) {
	m, err := e.api.CreateMigration(ctx, domain.MigrationSpec{Name: fmt.Sprintf("drop_items_k_%d", n), TargetDatabaseID: databaseID,
		MigrationScript: "DROP INDEX items_k;", RollbackScript: "CREATE INDEX IF NOT EXISTS items_k ON items (k);",
		Strategy: domain.Direct}) // the risk is computed: a blocking DROP INDEX is Medium
	if err != nil {
		return "", "", fmt.Errorf("create migration: %w", err)
	}
	started, err := e.api.ExecuteMigration(ctx, m.MigrationID, api.ExecuteRequest{Strategy: domain.Direct,
		Monitoring: &domain.MonitorSettings{BaselineWindowSeconds: int(baselineWindow.Seconds()),
			MonitorWindowSeconds: int(monitorWindow.Seconds()), SampleIntervalMs: e.o.sampleMs}})
	if err != nil {
		return "", "", fmt.Errorf("execute migration: %w", err)
	}
	return m.MigrationID, started.ExecutionID, nil
}

// waitTerminal polls the execution until nothing more will happen to it,
// and fails unless the guard rolled it back for latency.
func (e *env) waitTerminal(ctx context.Context, mig, exec string) (domain.Execution, error) {
	deadline := time.Now().Add(terminalTimeout)
	for {
		ex, err := e.api.GetExecution(ctx, mig, exec)
		if err != nil {
			return ex, fmt.Errorf("get execution: %w", err)
		}
		if ex.Status.Terminal() {
			return ex, rolledBackForLatency(ex)
		}
		if time.Now().After(deadline) {
			return ex, fmt.Errorf("execution still %s after %s", ex.Status, terminalTimeout)
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return ex, err
		}
	}
}

// rolledBackForLatency fails unless ex was rolled back by the latency rule.
func rolledBackForLatency(ex domain.Execution) error {
	if ex.Status == domain.ExecutionRolledBack && strings.Contains(ex.RollbackReason, "latency") {
		return nil
	}
	var logs []string
	for _, l := range ex.Logs {
		logs = append(logs, l.Time.Format("15:04:05.000")+" "+l.Level+" "+l.Message)
	}
	return fmt.Errorf("execution %s (%q), want RolledBack for latency; log:\n%s",
		ex.Status, ex.RollbackReason, strings.Join(logs, "\n"))
}

// figures reads the onset from the forward step and the decision's times
// from the execution's metrics.
func (e *env) figures(ctx context.Context, ex domain.Execution) (result, error) {
	onset, err := dropCommitted(ex)
	if err != nil {
		return result{}, err
	}
	d, err := e.rollbackDecision(ctx, ex)
	if err != nil {
		return result{}, err
	}
	r := result{onset: onset, decision: d.DetectedAt.Sub(onset), committed: d.CommittedAt.Sub(onset),
		finished: d.RollbackFinishedAt.Sub(onset), decidedBy: d.DecidedBy, value: d.Value, threshold: d.Threshold}
	tick := nextTick(onset, e.o.pollEvery)
	r.pollDecision = tick.Sub(onset)
	r.rollback = d.RollbackFinishedAt.Sub(d.DetectedAt)
	r.pollFinished = r.pollDecision + r.rollback
	return r, nil
}

// dropCommitted is when DROP INDEX ended on the database: its statement's
// start plus its duration, in the forward step.
func dropCommitted(ex domain.Execution) (time.Time, error) {
	for _, st := range ex.Steps {
		if st.Direction != domain.Forward {
			continue
		}
		for _, s := range st.Statements {
			if strings.Contains(strings.ToUpper(s.SQL), "DROP INDEX") {
				return s.StartedAt.Add(time.Duration(s.DurationMs * float64(time.Millisecond))), nil
			}
		}
	}
	return time.Time{}, errors.New("no DROP INDEX statement in the forward step")
}

// rollbackDecision returns the execution's latency rollback decision, with
// its rollback finished, from GET .../metrics.
func (e *env) rollbackDecision(ctx context.Context, ex domain.Execution) (domain.Decision, error) {
	m, err := e.api.ExecutionMetrics(ctx, ex.MigrationID, ex.ExecutionID, 0)
	if err != nil {
		return domain.Decision{}, fmt.Errorf("execution metrics: %w", err)
	}
	for _, d := range m.Decisions {
		if d.Action == "rollback" && d.Counter == domain.CounterLatency && !d.RollbackFinishedAt.IsZero() {
			return d, nil
		}
	}
	return domain.Decision{}, fmt.Errorf("no latency rollback decision with its rollback finished in %+v", m.Decisions)
}

// nextTick is the first multiple of every (in wall-clock time since the
// Unix epoch) after t: when a poller on a fixed schedule, in no phase with
// the migration, next looks.
func nextTick(t time.Time, every time.Duration) time.Time {
	n := t.UnixNano()/int64(every) + 1
	return time.Unix(0, n*int64(every))
}
