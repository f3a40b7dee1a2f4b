package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/dialect/stepwise"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// runStepwise runs a script that cannot run in one transaction under the
// resume policy of package stepwise: unit by unit in autocommit, skipping
// the statements an earlier delivery completed (hotswap.step_progress),
// then records the step in the history.
func (r *stepRun) runStepwise(ctx context.Context, p scriptPlan) error {
	units := make([]stepwise.Unit, len(p.units))
	for i, u := range p.units {
		units[i] = stepwise.Unit{First: u.first, Last: u.last}
	}
	return stepwise.Run(ctx, units, stepwiseHooks{r: r, p: p}, r.emit, func(i int) string { return p.stmts[i].sql })
}

// stepwiseHooks are PostgreSQL's stepwise.Hooks for one step.
type stepwiseHooks struct {
	r *stepRun
	p scriptPlan
}

// Done reads the step's progress rows and marks the step started. When an
// earlier delivery had started it, what that delivery's backend finished
// without recording (a CREATE INDEX CONCURRENTLY that completed after the
// agent died) is recognised and recorded now (reconcile.go).
func (h stepwiseHooks) Done(ctx context.Context) (map[int]bool, error) {
	done, err := loadProgress(ctx, h.r.conn, h.r.req.ExecutionID, h.r.req.StepID)
	if err != nil {
		return nil, err
	}
	earlier, err := markStarted(ctx, h.r.conn, h.r.req.ExecutionID, h.r.req.StepID)
	if err != nil || !earlier {
		return done, err
	}
	return done, h.r.reconcileIndexes(ctx, h.p, done)
}

// RunUnit runs the statements todo of one unit.
func (h stepwiseHooks) RunUnit(ctx context.Context, todo []int) error {
	stmts := make([]statement, len(todo))
	for i, idx := range todo {
		stmts[i] = h.p.stmts[idx]
	}
	return h.r.runUnit(ctx, stmts)
}

// Finish records the touched tables' fingerprints and writes the step's
// history row; the whole schema's fingerprint follows in the step's tail.
func (h stepwiseHooks) Finish(ctx context.Context) error {
	if err := recordStep(ctx, h.r.conn, h.r.req, h.p, h.r.started); err != nil {
		return err
	}
	h.r.schemaDue = true
	return nil
}

// runUnit runs the statements of one unit not done yet, retrying the unit
// on a lock timeout. When it fails for good, the invalid index a failed
// CREATE INDEX CONCURRENTLY left is dropped at once, best effort.
func (r *stepRun) runUnit(ctx context.Context, todo []statement) error {
	err := r.withLockRetries(ctx, needsOf(todo), func(ctx context.Context, n int) error {
		return r.unitAttempt(ctx, todo, n)
	})
	switch {
	case err != nil && ctx.Err() != nil:
		r.cleanupAfterCancel(todo)
	case err != nil:
		r.cleanupIndexes(ctx, todo)
	}
	return err
}

// cleanupAfterCancel drops the invalid index a cancelled CREATE INDEX
// CONCURRENTLY left, on a fresh session (the step's own was cancelled):
// nothing else would remove it, since the step applied nothing.
func (r *stepRun) cleanupAfterCancel(todo []statement) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	fresh, err := r.c.pool.Acquire(ctx)
	if err != nil {
		r.emit(levelWarn, "could not clean up after the cancel: "+r.scrubText(err.Error()), "")
		return
	}
	defer fresh.Release()
	prev := r.conn
	r.conn = fresh
	defer func() { r.conn = prev }()
	r.cleanupIndexes(ctx, todo)
}

// unitAttempt is one attempt of a unit, with the session's timeouts set
// afresh (the statement timeout shrinks as the deadline nears). Each
// statement's progress row is written right after it; inside an explicit
// block of the script it commits with the block.
func (r *stepRun) unitAttempt(ctx context.Context, stmts []statement, n int) error {
	if err := r.setSessionTimeouts(ctx, r.conn); err != nil {
		return err
	}
	var results []domain.StatementResult
	for _, s := range stmts {
		res, err := r.stepOne(ctx, s, n)
		if err != nil {
			r.abortBlock(ctx)
			return err
		}
		results = append(results, res)
	}
	if r.inTransaction() {
		r.abortBlock(ctx)
		last := stmts[len(stmts)-1].sql
		return &statementError{SQL: last, DB: dbFailure("the script leaves a transaction open (BEGIN without COMMIT): rolled back", "")}
	}
	r.out.Statements = append(r.out.Statements, results...)
	r.emitDone(results)
	return nil
}

// stepOne cleans what an earlier failed CREATE INDEX CONCURRENTLY left,
// runs the statement and records its progress.
func (r *stepRun) stepOne(ctx context.Context, s statement, n int) (domain.StatementResult, error) {
	if err := r.dropInvalidIndex(ctx, s, "an earlier attempt"); err != nil {
		return domain.StatementResult{}, err
	}
	res, err := r.runOne(ctx, r.conn, s, n)
	if err != nil {
		return res, err
	}
	return res, recordProgress(ctx, r.conn, r.req.ExecutionID, r.req.StepID, s.index)
}

// inTransaction reports whether the script left the session in a
// transaction block.
func (r *stepRun) inTransaction() bool { return r.conn.Conn().PgConn().TxStatus() != 'I' }

// abortBlock rolls back an explicit block of the script that failed.
func (r *stepRun) abortBlock(ctx context.Context) {
	if !r.inTransaction() {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_, _ = r.conn.Exec(ctx, "ROLLBACK")
}

// invalidIndexSQL finds the invalid index named $1 on table $2.
const invalidIndexSQL = `SELECT format('%I.%I', n.nspname, c.relname)
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT i.indisvalid AND c.relname = $1 AND i.indrelid = to_regclass($2)`

// dropInvalidIndex drops the INVALID index a failed CREATE INDEX
// CONCURRENTLY of s left behind, if any, with DROP INDEX CONCURRENTLY (a
// lock timeout there is retried like the statement's own).
func (r *stepRun) dropInvalidIndex(ctx context.Context, s statement, why string) error {
	ix := s.createIndex
	if ix == nil || !ix.concurrent || ix.name == "" || r.inTransaction() {
		return nil
	}
	var name string
	err := r.conn.QueryRow(ctx, invalidIndexSQL, ix.name, ix.table).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("look up invalid index %s: %w", ix.name, err)
	}
	drop := "DROP INDEX CONCURRENTLY IF EXISTS " + name
	r.emit(levelWarn, fmt.Sprintf("dropping invalid index %s, left by a failed CREATE INDEX CONCURRENTLY (%s)", name, why), drop)
	if _, err := r.conn.Exec(ctx, drop); err != nil {
		return failedStatement(drop, err)
	}
	r.emit(levelInfo, fmt.Sprintf("dropped invalid index %s", name), drop)
	return nil
}

// cleanupIndexes drops, right after a unit failed for good, the invalid
// indexes its CREATE INDEX CONCURRENTLY left: an invalid index still costs
// every write. A failure here is reported; the next delivery retries it.
func (r *stepRun) cleanupIndexes(ctx context.Context, stmts []statement) {
	for _, s := range stmts {
		if err := r.dropInvalidIndex(ctx, s, "the attempt that just failed"); err != nil {
			r.emit(levelWarn, fmt.Sprintf("could not drop the invalid index yet (%v): it will be dropped before the statement runs again", err), s.sql)
		}
	}
}
