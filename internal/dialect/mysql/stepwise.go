package mysql

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/lockwait"
	"github.com/hotswap-db/hotswap/internal/dialect/stepwise"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// runStepwise runs the script under the resume policy of package stepwise:
// statement by statement, skipping those an earlier delivery completed,
// then records the step in the history.
func (r *stepRun) runStepwise(ctx context.Context, p scriptPlan) error {
	units := make([]stepwise.Unit, len(p.stmts))
	for i := range p.stmts {
		units[i] = stepwise.Unit{First: i, Last: i}
	}
	return stepwise.Run(ctx, units, stepwiseHooks{r: r, p: p}, r.emit, func(i int) string { return p.stmts[i].sql })
}

// stepwiseHooks are MySQL's stepwise.Hooks for one step.
type stepwiseHooks struct {
	r *stepRun
	p scriptPlan
}

// Done reads the step's progress rows, and which statements an earlier
// delivery started.
func (h stepwiseHooks) Done(ctx context.Context) (map[int]bool, error) {
	started, err := loadIntents(ctx, h.r.conn, h.r.req.ExecutionID, h.r.req.StepID)
	if err != nil {
		return nil, err
	}
	h.r.startedBefore = started
	return loadProgress(ctx, h.r.conn, h.r.req.ExecutionID, h.r.req.StepID)
}

// RunUnit runs the one statement of a unit with the lock-retry policy and
// records its progress.
func (h stepwiseHooks) RunUnit(ctx context.Context, todo []int) error {
	for _, i := range todo {
		if err := h.r.runStatement(ctx, h.p.stmts[i]); err != nil {
			return err
		}
	}
	return nil
}

// Finish writes the step's history row.
func (h stepwiseHooks) Finish(ctx context.Context) error {
	return insertHistory(ctx, h.r.conn, h.r.c.schema, h.r.req, time.Since(h.r.started))
}

// runStatement runs s, retried on lock timeouts, and records it done. A
// statement an earlier delivery started that fails because its effect is
// already there (that delivery ran it and stopped before recording it)
// counts as done.
func (r *stepRun) runStatement(ctx context.Context, s statement) error {
	r.targets = s.targets
	if err := recordIntent(ctx, r.conn, r.req.ExecutionID, r.req.StepID, s.index); err != nil {
		return err
	}
	var res domain.StatementResult
	err := r.withLockRetries(ctx, s, func(ctx context.Context, n int) error {
		var err error
		res, err = r.runVariants(ctx, s, n)
		return err
	})
	if err != nil && r.startedBefore[s.index] && effectPresent(err) {
		r.emit(levelWarn, fmt.Sprintf("statement %d was started by an earlier delivery of this step, which stopped before "+
			"recording it, and the server says its effect is there (%s): counted as done", s.index+1, err.Error()), s.sql)
		return recordProgress(ctx, r.conn, r.req.ExecutionID, r.req.StepID, s.index)
	}
	if err != nil {
		return err
	}
	if err := recordProgress(ctx, r.conn, r.req.ExecutionID, r.req.StepID, s.index); err != nil {
		return err
	}
	r.out.Statements = append(r.out.Statements, res)
	msg := fmt.Sprintf("statement %d done in %.1f ms (attempt %d)", res.Index+1, res.DurationMs, res.Attempts)
	r.send(dialectEvent(levelInfo, msg, res))
	return nil
}

// runVariants runs the statement's online forms in order, falling back to
// the next when the server says the algorithm cannot do it; when only
// COPY remains and the script does not allow it, it refuses.
func (r *stepRun) runVariants(ctx context.Context, s statement, attempt int) (domain.StatementResult, error) {
	if len(s.variants) == 0 {
		return r.runOne(ctx, s.index, s.sql, attempt)
	}
	var last error
	for _, v := range s.variants {
		res, err := r.runOne(ctx, s.index, v, attempt)
		if err == nil {
			if v != s.sql {
				r.emit(levelInfo, fmt.Sprintf("statement %d ran online as %s", s.index+1, v), v)
			} else {
				r.emit(levelWarn, fmt.Sprintf("statement %d ran with the server's own algorithm (COPY allowed by %s)", s.index+1, AllowCopyDirective), v)
			}
			return res, nil
		}
		if !isNotSupported(err) {
			return res, err
		}
		r.emit(levelInfo, fmt.Sprintf("statement %d: %s", s.index+1, err.Error()), v)
		last = err
	}
	if s.copyRefused {
		return domain.StatementResult{}, copyRefusal(s, last.Error())
	}
	return domain.StatementResult{}, last
}

// runOne runs sql on the step's session under the lock watchdog and
// measures it.
func (r *stepRun) runOne(ctx context.Context, index int, sql string, attempt int) (domain.StatementResult, error) {
	r.setStatementTimeout(ctx)
	start := time.Now()
	g := r.guard(ctx)
	res, err := r.conn.ExecContext(context.WithoutCancel(ctx), sql)
	killed := g.stop()
	switch {
	case killed == killCancel:
		return domain.StatementResult{}, ctx.Err()
	case err != nil && killed == killLock && isInterrupted(err):
		msg := fmt.Sprintf("lock wait timeout: waited %s for a metadata lock; statement stopped", r.req.LockTimeout)
		return domain.StatementResult{}, &statementError{SQL: sql, DB: dbFailure(msg, codeLockWaitTimeout), Cause: err}
	case err != nil:
		return domain.StatementResult{}, failedStatement(sql, err)
	}
	rows, _ := res.RowsAffected()
	return domain.StatementResult{Index: index, SQL: r.scrubText(sql), StartedAt: start.UTC(),
		DurationMs: milliseconds(time.Since(start)), RowsAffected: rows, Attempts: attempt}, nil
}

// isInterrupted reports whether err is ER_QUERY_INTERRUPTED.
func isInterrupted(err error) bool {
	me, ok := serverError(err)
	return ok && me.Number == codeQueryInterrupted
}

// Why the guard killed the statement.
const (
	killNone = iota
	killLock
	killCancel
)

// guard watches the step's session while one statement runs: it kills the
// statement (KILL QUERY from a pooled session) once it has waited one lock
// timeout for a lock, or when ctx ends. Its goroutine owns the decision.
type guard struct {
	stopCh chan struct{}
	once   sync.Once
	result chan int
}

// guard starts watching.
func (r *stepRun) guard(ctx context.Context) *guard {
	g := &guard{stopCh: make(chan struct{}), result: make(chan int, 1)}
	go func() { g.result <- r.watch(ctx, g.stopCh) }()
	return g
}

// stop ends the watch and says whether, and why, it killed the statement.
func (g *guard) stop() int {
	g.once.Do(func() { close(g.stopCh) })
	return <-g.result
}

// watch polls the session's state in the process list.
func (r *stepRun) watch(ctx context.Context, stop <-chan struct{}) int {
	ticker := time.NewTicker(pollEvery(r.req.LockTimeout))
	defer ticker.Stop()
	var waitingSince time.Time
	for {
		select {
		case <-stop:
			return killNone
		case <-ctx.Done():
			r.kill("the step was cancelled")
			return killCancel
		case <-ticker.C:
		}
		waiting, err := r.waitingForLock(ctx)
		switch {
		case err != nil || !waiting:
			waitingSince = time.Time{}
		case waitingSince.IsZero():
			waitingSince = time.Now()
		case time.Since(waitingSince) >= r.req.LockTimeout-pollEvery(r.req.LockTimeout)/2:
			r.kill("it waited one lock timeout for a lock")
			return killLock
		}
	}
}

// waitingForLockSQL reads the state of session ? in the process list.
const waitingForLockSQL = `SELECT COALESCE(STATE, '') LIKE 'Waiting for%lock%' FROM information_schema.PROCESSLIST WHERE ID = ?`

// waitingForLock reports whether the step's session waits for a lock now.
func (r *stepRun) waitingForLock(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var waiting bool
	err := r.c.db.QueryRowContext(ctx, waitingForLockSQL, r.id).Scan(&waiting)
	return waiting, err
}

// kill stops the step's running statement from a pooled session.
func (r *stepRun) kill(why string) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if _, err := r.c.db.ExecContext(ctx, fmt.Sprintf("KILL QUERY %d", r.id)); err != nil {
		r.emit(levelWarn, fmt.Sprintf("could not stop the statement (%s): %s", why, r.scrubText(err.Error())), "")
	}
}

// pollEvery is the watchdog's interval: several looks per lock timeout.
func pollEvery(lockTimeout time.Duration) time.Duration {
	return max(min(50*time.Millisecond, lockTimeout/8), 5*time.Millisecond)
}

// withLockRetries runs attempt under the lock-retry policy of package
// lockwait, with MySQL's hooks (locks.go).
func (r *stepRun) withLockRetries(ctx context.Context, s statement, attempt func(ctx context.Context, n int) error) error {
	p := &lockwait.Policy{
		Session:     lockSession{r: r},
		LockTimeout: r.req.LockTimeout,
		Deadline:    r.req.Deadline,
		TimeoutCode: codeLockWaitTimeout,
		SessionNoun: "connection",
		Emit:        r.emit,
		// The lock policy needs the moment picker, which MySQL has not:
		// the policy says so in the step's events.
		FailNeverFree:  r.req.LockPolicy.FailsWhenNeverFree(),
		TerminateAfter: r.req.LockPolicy.TerminateAfter(),
	}
	retries, err := p.Run(ctx, stmtNeeds{r: r, s: s}, attempt)
	r.out.Retries += retries
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return ctx.Err()
	}
	return err
}

// dialectEvent is the event of a completed statement.
func dialectEvent(level, msg string, res domain.StatementResult) dialect.StepEvent {
	return dialect.StepEvent{Level: level, Message: msg, Statement: res.SQL, Done: &res}
}

// Server errors that say a statement's effect is already in the catalog:
// the table, column, index, key or constraint it creates exists, or the
// one it drops is gone.
var effectPresentErrors = map[uint16]bool{
	1050: true, // ER_TABLE_EXISTS_ERROR
	1051: true, // ER_BAD_TABLE_ERROR (DROP TABLE of a table gone)
	1060: true, // ER_DUP_FIELDNAME
	1061: true, // ER_DUP_KEYNAME
	1068: true, // ER_MULTIPLE_PRI_KEY
	1091: true, // ER_CANT_DROP_FIELD_OR_KEY
	1826: true, // ER_FK_DUP_NAME
}

// effectPresent reports whether err says the statement's effect is
// already there.
func effectPresent(err error) bool {
	me, ok := serverError(err)
	return ok && effectPresentErrors[me.Number]
}
