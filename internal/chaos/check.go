package chaos

import (
	"context"
	"fmt"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// lockGrace is how long after a step's deadline (and after the execution
// ended) a HotSwap session may still hold a lock: the server-side idle
// bound the agent sets (3 s) plus the time PostgreSQL takes to end the
// session.
const lockGrace = 5 * time.Second

// agentLocksSQL counts the relation locks HotSwap's sessions hold in the
// current database, on the application's tables and on HotSwap's own.
const agentLocksSQL = `SELECT count(*) FROM pg_locks l
	JOIN pg_stat_activity a ON a.pid = l.pid
	JOIN pg_class c ON c.oid = l.relation
	JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE a.application_name LIKE 'hotswap%' AND l.granted
	AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
	AND n.nspname IN ('public', 'hotswap')`

// check runs the invariants on the ended (or given-up) execution; a broken
// one is recorded as a violation, an error means the check could not run.
func (r *runner) check(ctx context.Context) error {
	if r.exec.Status.Terminal() {
		for _, db := range r.w.Instances {
			if err := r.checkInstance(ctx, db); err != nil {
				return err
			}
		}
		r.checkOutcome()
	}
	return r.checkLocks(ctx, r.lockDeadline())
}

// lockDeadline is when no HotSwap session may hold a lock any more: the
// step's deadline (the execution's) or the end of the execution, whichever
// comes first, plus lockGrace.
func (r *runner) lockDeadline() time.Time {
	end := time.Now()
	if d := r.exec.Deadline(); !r.exec.StartedAt.IsZero() && d.Before(end) {
		end = d
	}
	return end.Add(lockGrace)
}

// applied reports, per instance, whether the migration is in place there:
// its forward step succeeded and no rollback step undid it.
func applied(e domain.Execution) map[string]bool {
	out := map[string]bool{}
	undone := map[string]bool{}
	for _, s := range e.Steps {
		if s.Kind == domain.StepApply && s.Direction == domain.Rollback && s.Status == domain.StepSucceeded {
			undone[s.Reverts] = true
		}
	}
	for _, s := range e.Steps {
		if s.Kind == domain.StepApply && s.Direction == domain.Forward {
			out[s.InstanceID] = s.Status == domain.StepSucceeded && !undone[s.StepID]
		}
	}
	return out
}

// checkInstance compares one instance's history rows and catalog with the
// steps' status.
func (r *runner) checkInstance(ctx context.Context, db string) error {
	want := 0
	for _, s := range r.exec.Steps {
		if s.Kind != domain.StepApply || s.InstanceID != db {
			continue
		}
		n, err := Query[int64](ctx, r.w, db, `SELECT count(*) FROM hotswap.schema_history WHERE execution_id = $1 AND step_id = $2`,
			r.exec.ExecutionID, s.StepID)
		if err != nil {
			return err
		}
		if s.Status == domain.StepSucceeded {
			want++
			if n != 1 {
				r.violate("%s: step %s (%s) %s with %d history rows, want 1", db, s.StepID, s.Direction, s.Status, n)
			}
		} else if n != 0 {
			r.violate("%s: step %s (%s) %s with %d history rows, want 0", db, s.StepID, s.Direction, s.Status, n)
		}
	}
	total, err := Query[int64](ctx, r.w, db, `SELECT count(*) FROM hotswap.schema_history WHERE execution_id = $1`, r.exec.ExecutionID)
	if err != nil {
		return err
	}
	if int(total) != want {
		r.violate("%s: %d history rows for the execution, want %d (one per succeeded step)", db, total, want)
	}
	return r.checkCatalog(ctx, db, applied(r.exec)[db])
}

// checkCatalog: the column (and index) exist on db iff the migration is
// in place there, and an index that exists is valid.
func (r *runner) checkCatalog(ctx context.Context, db string, inPlace bool) error {
	if r.hasColumn {
		if err := r.checkColumn(ctx, db, inPlace); err != nil {
			return err
		}
	}
	if !r.hasIndex {
		return nil
	}
	idx, err := Query[string](ctx, r.w, db, `SELECT coalesce((SELECT CASE WHEN indisvalid THEN 'valid' ELSE 'invalid' END
		FROM pg_index WHERE indexrelid = to_regclass($1)), 'missing')`, r.index)
	if err != nil {
		return err
	}
	if (idx != "missing") != inPlace || idx == "invalid" {
		r.violate("%s: index %s is %s, but the migration in place = %v (execution %s)", db, r.index, idx, inPlace, r.exec.Status)
	}
	return nil
}

// checkColumn: the column exists on db iff the migration is in place.
func (r *runner) checkColumn(ctx context.Context, db string, inPlace bool) error {
	col, err := Query[bool](ctx, r.w, db, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_name = $1 AND column_name = $2)`, r.table, r.column)
	if err != nil {
		return err
	}
	if col != inPlace {
		r.violate("%s: column %s.%s exists = %v, but the migration in place = %v (execution %s)", db, r.table, r.column, col, inPlace, r.exec.Status)
	}
	return nil
}

// checkOutcome: a Succeeded execution is in place everywhere, a RolledBack
// one nowhere.
func (r *runner) checkOutcome() {
	in := applied(r.exec)
	for _, db := range r.w.Instances {
		switch {
		case r.exec.Status == domain.ExecutionSucceeded && !in[db]:
			r.violate("execution Succeeded but %s has no succeeded forward step in place", db)
		case r.exec.Status == domain.ExecutionRolledBack && in[db]:
			r.violate("execution RolledBack but its step on %s is still in place", db)
		}
	}
}

// checkLocks waits until no HotSwap session holds a lock in any instance;
// it is a violation when one still does at deadline.
func (r *runner) checkLocks(ctx context.Context, deadline time.Time) error {
	for _, db := range r.w.Instances {
		held, err := r.locksUntil(ctx, db, deadline)
		if err != nil {
			return err
		}
		if held > 0 {
			r.violate("%s: HotSwap sessions hold %d locks %s past the step's deadline", db, held, lockGrace)
		}
	}
	return nil
}

// locksUntil polls the HotSwap sessions' locks on db until there are none
// or deadline passes, and returns the last count.
func (r *runner) locksUntil(ctx context.Context, db string, deadline time.Time) (int64, error) {
	for {
		n, err := Query[int64](ctx, r.w, db, agentLocksSQL)
		if err != nil || n == 0 || time.Now().After(deadline) {
			return n, err
		}
		select {
		case <-ctx.Done():
			return n, fmt.Errorf("chaos: locks on %s: %w", db, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
