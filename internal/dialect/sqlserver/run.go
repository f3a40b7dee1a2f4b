package sqlserver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/lockwait"
	"github.com/hotswap-db/hotswap/internal/dialect/stepwise"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// runTransactional runs the whole script and its history row in one
// transaction, retried whole on a lock timeout. The history is read with
// update and range locks inside the transaction, so a concurrent delivery
// of the same step waits for this one and then finds it applied.
func (r *stepRun) runTransactional(ctx context.Context, p scriptPlan) error {
	var targets []string
	for _, b := range p.units {
		targets = append(targets, b.targets...)
	}
	r.targets = targets
	var results []domain.StatementResult
	err := r.withLockRetries(ctx, stmtNeeds{r: r, targets: targets, sql: p.units[0].sql}, func(ctx context.Context, n int) error {
		var err error
		results, err = r.transactionAttempt(ctx, p, n)
		if err != nil {
			r.rollback(ctx)
		}
		return err
	})
	if err != nil {
		return err
	}
	r.out.Transactional = true
	for i, res := range results {
		r.out.Statements = append(r.out.Statements, res)
		r.send(doneEvent(p.units[i], res))
	}
	return nil
}

// transactionAttempt is one attempt at the whole script in a transaction.
func (r *stepRun) transactionAttempt(ctx context.Context, p scriptPlan, attempt int) ([]domain.StatementResult, error) {
	if _, err := r.conn.ExecContext(ctx, beginSQL); err != nil {
		return nil, failedStatement(beginSQL, err)
	}
	if err := checkStep(ctx, r.conn, r.req); err != nil {
		return nil, lockOrError(err)
	}
	var results []domain.StatementResult
	for _, b := range p.units {
		res, err := r.runBatch(ctx, b, attempt)
		if err != nil {
			return nil, err
		}
		results = append(results, res)
	}
	if err := insertHistory(ctx, r.conn, r.req, time.Since(r.started)); err != nil {
		return nil, lockOrError(err)
	}
	if _, err := r.conn.ExecContext(ctx, commitSQL); err != nil {
		return nil, failedStatement(commitSQL, err)
	}
	return results, nil
}

// lockOrError keeps a bookkeeping query's lock timeout a lock timeout (so
// it is retried) and leaves any other error as it is.
func lockOrError(err error) error {
	if me, ok := serverError(err); ok && isLockTimeout(me) {
		return failedStatement("the history table", err)
	}
	return err
}

// runStepwise runs the script batch by batch under the resume policy of
// package stepwise, then records the step in the history.
func (r *stepRun) runStepwise(ctx context.Context, p scriptPlan) error {
	units := make([]stepwise.Unit, len(p.units))
	for i := range p.units {
		units[i] = stepwise.Unit{First: i, Last: i}
	}
	return stepwise.Run(ctx, units, stepwiseHooks{r: r, p: p}, r.emit, func(i int) string { return p.units[i].sql })
}

// stepwiseHooks are SQL Server's stepwise.Hooks for one step.
type stepwiseHooks struct {
	r *stepRun
	p scriptPlan
}

// Done reads the step's progress rows, and which batches an earlier
// delivery started.
func (h stepwiseHooks) Done(ctx context.Context) (map[int]bool, error) {
	started, err := loadIndexes(ctx, h.r.conn, "step_intent", h.r.req.ExecutionID, h.r.req.StepID)
	if err != nil {
		return nil, err
	}
	h.r.startedBefore = started
	return loadIndexes(ctx, h.r.conn, "step_progress", h.r.req.ExecutionID, h.r.req.StepID)
}

// RunUnit runs the batch of a unit with the lock-retry policy and records
// its progress.
func (h stepwiseHooks) RunUnit(ctx context.Context, todo []int) error {
	for _, i := range todo {
		b := h.p.units[i]
		var res domain.StatementResult
		var err error
		if b.transactional {
			res, err = h.r.runBatchInTransaction(ctx, b)
		} else {
			res, err = h.r.runBatchAlone(ctx, b)
		}
		if err != nil {
			return err
		}
		if res.Attempts > 0 {
			h.r.out.Statements = append(h.r.out.Statements, res)
			h.r.send(doneEvent(b, res))
		}
	}
	return nil
}

// Finish writes the step's history row.
func (h stepwiseHooks) Finish(ctx context.Context) error {
	return insertHistory(ctx, h.r.conn, h.r.req, time.Since(h.r.started))
}

// runBatchInTransaction runs a batch and its progress row in one
// transaction, retried on lock timeouts.
func (r *stepRun) runBatchInTransaction(ctx context.Context, b unit) (domain.StatementResult, error) {
	r.targets = b.targets
	var res domain.StatementResult
	err := r.withLockRetries(ctx, stmtNeeds{r: r, targets: b.targets, sql: b.sql}, func(ctx context.Context, n int) error {
		err := r.unitTransaction(ctx, b, n, &res)
		if err != nil {
			r.rollback(ctx)
		}
		return err
	})
	return res, err
}

// unitTransaction is one attempt at a batch in its own transaction.
func (r *stepRun) unitTransaction(ctx context.Context, b unit, attempt int, res *domain.StatementResult) error {
	if _, err := r.conn.ExecContext(ctx, beginSQL); err != nil {
		return failedStatement(beginSQL, err)
	}
	var err error
	if *res, err = r.runBatch(ctx, b, attempt); err != nil {
		return err
	}
	if err := recordIndex(ctx, r.conn, "step_progress", r.req.ExecutionID, r.req.StepID, b.index); err != nil {
		return lockOrError(err)
	}
	if _, err := r.conn.ExecContext(ctx, commitSQL); err != nil {
		return failedStatement(commitSQL, err)
	}
	return nil
}

// runBatchAlone runs a batch that cannot be in a transaction: its intent
// is recorded first, then it runs (retried on lock timeouts), then its
// progress. A batch an earlier delivery started that fails because its
// effect is already there (that delivery ran it and stopped before
// recording it) counts as done.
func (r *stepRun) runBatchAlone(ctx context.Context, b unit) (domain.StatementResult, error) {
	r.targets = b.targets
	if err := recordIndex(ctx, r.conn, "step_intent", r.req.ExecutionID, r.req.StepID, b.index); err != nil {
		return domain.StatementResult{}, err
	}
	var res domain.StatementResult
	err := r.withLockRetries(ctx, stmtNeeds{r: r, targets: b.targets, sql: b.sql}, func(ctx context.Context, n int) error {
		var err error
		res, err = r.runBatch(ctx, b, n)
		return err
	})
	if err != nil && r.startedBefore[b.index] && effectPresent(err) {
		r.emit(levelWarn, fmt.Sprintf("%s was started by an earlier delivery of this step, which stopped before recording it, "+
			"and the server says its effect is there (%s): counted as done", describeUnit(b), err.Error()), b.sql)
		return domain.StatementResult{}, recordIndex(ctx, r.conn, "step_progress", r.req.ExecutionID, r.req.StepID, b.index)
	}
	if err != nil {
		return res, err
	}
	return res, recordIndex(ctx, r.conn, "step_progress", r.req.ExecutionID, r.req.StepID, b.index)
}

// withLockRetries runs attempt under the lock-retry policy of package
// lockwait, with SQL Server's hooks (locks.go).
func (r *stepRun) withLockRetries(ctx context.Context, needs stmtNeeds, attempt func(ctx context.Context, n int) error) error {
	p := &lockwait.Policy{
		Session:     lockSession{r: r},
		LockTimeout: r.req.LockTimeout,
		Deadline:    r.req.Deadline,
		TimeoutCode: codeLockTimeout,
		SessionNoun: "session",
		Emit:        r.emit,
	}
	retries, err := p.Run(ctx, needs, attempt)
	r.out.Retries += retries
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return ctx.Err()
	}
	return err
}

// doneEvent is the event of a completed batch.
func doneEvent(u unit, res domain.StatementResult) dialect.StepEvent {
	msg := fmt.Sprintf("%s done in %.1f ms (attempt %d)", u.label, res.DurationMs, res.Attempts)
	return dialect.StepEvent{Level: levelInfo, Message: msg, Statement: res.SQL, Done: &res}
}

// Server errors that say a batch's effect is already in the catalog: the
// object, index, column or constraint it creates exists, or the one it
// drops is gone.
var effectPresentErrors = map[int32]bool{
	1781: true, // Column already has a DEFAULT bound to it.
	1913: true, // The operation failed because an index or statistics with name ... already exists.
	2705: true, // Column names in each table must be unique.
	2714: true, // There is already an object named ... in the database.
	3701: true, // Cannot drop the ... because it does not exist or you do not have permission.
	4924: true, // ALTER TABLE ALTER COLUMN failed because column ... does not exist.
	7601: true, // Cannot use a CONTAINS or FREETEXT predicate ... (full-text index already there/absent)
	7652: true, // A full-text index for table or indexed view ... has already been created.
	1801: true, // Database ... already exists.
}

// effectPresent reports whether err says the batch's effect is already
// there.
func effectPresent(err error) bool {
	me, ok := serverError(err)
	return ok && effectPresentErrors[me.Number]
}
