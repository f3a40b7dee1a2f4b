package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// runner is one run of a scenario: its names, its random source, the
// execution it started and what it found.
type runner struct {
	w   *World
	rng *rand.Rand
	// table is the run's own table in every instance; column and index
	// are what its migration adds, as hasColumn and hasIndex say.
	table, column, index string
	hasColumn, hasIndex  bool
	migID                string
	exec                 domain.Execution
	faults               []string
	violations           []string
}

// rollout is a migration a scenario starts.
type rollout struct {
	up, down string
	strategy domain.Strategy
	timeout  time.Duration
	monitor  time.Duration // the monitor window after each step
}

// start creates the run's table in every instance, then the migration,
// and executes it through server s.
func (r *runner) start(ctx context.Context, s *testbed.Server, ro rollout) error {
	for _, db := range r.w.Instances {
		if err := r.w.Exec(ctx, db, fmt.Sprintf("CREATE TABLE %s (id serial PRIMARY KEY, v int)", r.table),
			fmt.Sprintf("INSERT INTO %s (v) SELECT g FROM generate_series(1, 300) g", r.table)); err != nil {
			return err
		}
	}
	cl := r.w.Client(s)
	m, err := cl.CreateMigration(ctx, domain.MigrationSpec{Name: "add_" + r.column + "_to_" + r.table, TargetDatabaseID: dbName,
		MigrationScript: ro.up, RollbackScript: ro.down, Strategy: ro.strategy, RiskLevel: domain.RiskLow})
	if err != nil {
		return fmt.Errorf("chaos: create migration: %w", err)
	}
	r.migID = m.MigrationID
	ex, err := cl.ExecuteMigration(ctx, m.MigrationID, api.ExecuteRequest{Strategy: ro.strategy,
		TimeoutSeconds: int64(ro.timeout / time.Second),
		Monitoring:     &domain.MonitorSettings{MonitorWindowSeconds: int(ro.monitor / time.Second), BaselineWindowSeconds: 1}})
	if err != nil {
		return fmt.Errorf("chaos: execute: %w", err)
	}
	r.exec = domain.Execution{ExecutionID: ex.ExecutionID, Status: domain.ExecutionPending}
	return nil
}

// addColumn is the run's transactional migration: ADD COLUMN, then a
// pause of sleep inside the same transaction (a window for the fault).
func (r *runner) addColumn(strategy domain.Strategy, sleep, timeout, monitor time.Duration) rollout {
	return rollout{
		up:       fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s int; SELECT pg_sleep(%.2f);", r.table, r.column, sleep.Seconds()),
		down:     fmt.Sprintf("ALTER TABLE %s DROP COLUMN IF EXISTS %s;", r.table, r.column),
		strategy: strategy, timeout: timeout, monitor: monitor,
	}
}

// between returns a random duration in [lo, hi).
func (r *runner) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(r.rng.Int64N(int64(hi-lo)))
}

// pause waits d, or less when ctx ends.
func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// note records what the fault did.
func (r *runner) note(format string, args ...any) {
	r.faults = append(r.faults, fmt.Sprintf(format, args...))
}

func (r *runner) fault() string { return strings.Join(r.faults, "; ") }

// violate records a broken invariant.
func (r *runner) violate(format string, args ...any) {
	r.violations = append(r.violations, fmt.Sprintf(format, args...))
}

// execution reads the run's execution from the first running server that
// answers, preferring a terminal answer (a terminal state is committed,
// while a follower cut off from the leader may answer an older one).
func (r *runner) execution(ctx context.Context) (domain.Execution, error) {
	var last domain.Execution
	var errs []error
	found := false
	for _, s := range r.w.Servers {
		if !s.Running() {
			continue
		}
		e, err := r.w.Client(s).GetExecution(ctx, r.migID, r.exec.ExecutionID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if e.Status.Terminal() {
			return e, nil
		}
		last, found = e, true
	}
	if !found {
		return last, fmt.Errorf("chaos: no server answers for execution %s: %w", r.exec.ExecutionID, errors.Join(errs...))
	}
	return last, nil
}

// terminalLimit bounds the wait for a terminal state after the fault.
const terminalLimit = 2 * time.Minute

// waitTerminal waits for the execution to end; it is a violation when it
// does not within terminalLimit.
func (r *runner) waitTerminal(ctx context.Context) {
	if r.exec.Status.Terminal() {
		return
	}
	err := testbed.Retry(ctx, terminalLimit, func() error {
		e, err := r.execution(ctx)
		if err == nil {
			r.exec = e
			if !e.Status.Terminal() {
				err = fmt.Errorf("execution %s", e.Status)
			}
		}
		return err
	})
	if err != nil {
		r.violate("the execution did not reach a terminal state within %s: %v", terminalLimit, err)
	}
}

// waitStatement waits until an agent session runs a statement containing
// fragment on the first instance, polling every 20 ms over one connection
// (a statement may run for a second or two only).
func (r *runner) waitStatement(ctx context.Context, fragment string) error {
	conn, err := r.w.Conn(ctx, r.w.Instances[0])
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int64
		err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE application_name LIKE 'hotswap%' AND state = 'active' AND query LIKE '%' || $1 || '%'`, fragment).Scan(&n)
		switch {
		case err != nil:
			return fmt.Errorf("chaos: wait for the agent to run %q: %w", fragment, err)
		case n > 0:
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("chaos: the agent did not run %q within 30s", fragment)
		}
		pause(ctx, 20*time.Millisecond)
	}
}

// waitStepStarted waits until the execution's first step has started.
func (r *runner) waitStepStarted(ctx context.Context) error {
	err := testbed.Retry(ctx, 30*time.Second, func() error {
		e, err := r.execution(ctx)
		if err != nil {
			return err
		}
		if len(e.Steps) == 0 || e.Steps[0].StartedAt.IsZero() {
			return errors.New("no step started yet")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("chaos: wait for the first step: %w", err)
	}
	return nil
}
