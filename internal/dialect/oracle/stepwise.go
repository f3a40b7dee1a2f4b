package oracle

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/lockwait"
	"github.com/hotswap-db/hotswap/internal/dialect/stepwise"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/sijms/go-ora/v2/network"
)

// runStepwise runs the script under the resume policy of package
// stepwise: statement by statement, skipping those an earlier delivery
// completed, then records the step in the history.
func (r *stepRun) runStepwise(ctx context.Context, p scriptPlan) error {
	units := make([]stepwise.Unit, len(p.stmts))
	for i := range p.stmts {
		units[i] = stepwise.Unit{First: i, Last: i}
	}
	return stepwise.Run(ctx, units, stepwiseHooks{r: r, p: p}, r.emit, func(i int) string { return p.stmts[i].sql })
}

// stepwiseHooks are Oracle's stepwise.Hooks for one step.
type stepwiseHooks struct {
	r *stepRun
	p scriptPlan
}

// Done reads the step's progress rows, and which statements an earlier
// delivery started.
func (h stepwiseHooks) Done(ctx context.Context) (map[int]bool, error) {
	started, err := loadIndexes(ctx, h.r.conn, loadIntentsSQL, h.r.req.ExecutionID, h.r.req.StepID)
	if err != nil {
		return nil, err
	}
	h.r.startedBefore = started
	return loadIndexes(ctx, h.r.conn, loadProgressSQL, h.r.req.ExecutionID, h.r.req.StepID)
}

// RunUnit runs the one statement of a unit.
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
	return insertHistory(ctx, h.r.conn, h.r.schema, h.r.req, time.Since(h.r.started))
}

// runStatement marks s started, runs it with the lock-retry policy,
// fails it when it created a stored unit with compilation errors, and
// records it done. A statement an earlier delivery started that fails
// because its effect is already there (that delivery ran it and stopped
// before recording it) counts as done; one never started before fails.
func (r *stepRun) runStatement(ctx context.Context, s statement) error {
	r.targets = s.targets
	if err := recordIndex(ctx, r.conn, recordIntentSQL, "the start", r.req.ExecutionID, r.req.StepID, s.index); err != nil {
		return err
	}
	var res domain.StatementResult
	err := r.withLockRetries(ctx, s, func(ctx context.Context, n int) error {
		var err error
		res, err = r.runForms(ctx, s, n)
		return err
	})
	if err != nil && r.startedBefore[s.index] && effectPresent(err, s) {
		r.emit(levelWarn, fmt.Sprintf("statement %d was started by an earlier delivery of this step, which stopped before "+
			"recording it, and the server says its effect is there (%s): counted as done", s.index+1, err.Error()), s.sql)
		return recordIndex(ctx, r.conn, recordProgressSQL, "the progress", r.req.ExecutionID, r.req.StepID, s.index)
	}
	if err != nil {
		return err
	}
	if err := r.checkCompiled(ctx, s); err != nil {
		return err
	}
	if err := recordIndex(ctx, r.conn, recordProgressSQL, "the progress", r.req.ExecutionID, r.req.StepID, s.index); err != nil {
		return err
	}
	r.out.Statements = append(r.out.Statements, res)
	msg := fmt.Sprintf("statement %d done in %.1f ms (attempt %d)", res.Index+1, res.DurationMs, res.Attempts)
	r.send(dialect.StepEvent{Level: levelInfo, Message: msg, Statement: res.SQL, Done: &res})
	return nil
}

// runForms runs the statement's ONLINE form when it has one; on a server
// that cannot build online (ORA-00439) it runs it as written only when the
// script allows it.
func (r *stepRun) runForms(ctx context.Context, s statement, attempt int) (domain.StatementResult, error) {
	if s.online == "" {
		return r.runOne(ctx, s.index, s.sql, attempt)
	}
	res, err := r.runOne(ctx, s.index, s.online, attempt)
	if err == nil {
		r.emit(levelInfo, fmt.Sprintf("statement %d ran online as %s", s.index+1, s.online), s.online)
		return res, nil
	}
	if code, _ := oraCode(err); code != oraFeatureDisabled {
		return res, err
	}
	if !r.allowOffline {
		msg := fmt.Sprintf("this server cannot build indexes online (%s), and an offline build blocks every insert, update and delete "+
			"on the table until it ends: refused; add the line %s to the script to allow it", serverMessage(err), AllowOfflineDirective)
		return res, &statementError{SQL: s.sql, DB: dbFailure(msg, codeText(oraFeatureDisabled)), Cause: err}
	}
	r.emit(levelWarn, fmt.Sprintf("statement %d runs offline (allowed by %s): DML on the table waits for the build", s.index+1, AllowOfflineDirective), s.sql)
	return r.runOne(ctx, s.index, s.sql, attempt)
}

// runOne runs sql on the step's session, bounded by the statement
// timeout, and measures it.
func (r *stepRun) runOne(ctx context.Context, index int, sql string, attempt int) (domain.StatementResult, error) {
	sctx, cancel := r.statementContext(ctx)
	defer cancel()
	start := time.Now()
	res, err := r.conn.ExecContext(sctx, sql)
	switch {
	case ctx.Err() != nil:
		return domain.StatementResult{}, ctx.Err()
	case err != nil && errors.Is(sctx.Err(), context.DeadlineExceeded):
		msg := fmt.Sprintf("statement timeout: stopped after %s", time.Since(start).Round(time.Millisecond))
		return domain.StatementResult{}, &statementError{SQL: sql, DB: dbFailure(msg, codeStatementTimeout), Cause: err}
	case err != nil:
		return domain.StatementResult{}, failedStatement(sql, err)
	}
	rows, _ := res.RowsAffected()
	return domain.StatementResult{Index: index, SQL: r.scrubText(sql), StartedAt: start.UTC(),
		DurationMs: milliseconds(time.Since(start)), RowsAffected: rows, Attempts: attempt}, nil
}

// withLockRetries runs attempt under the lock-retry policy of package
// lockwait, with Oracle's hooks (locks.go).
func (r *stepRun) withLockRetries(ctx context.Context, s statement, attempt func(ctx context.Context, n int) error) error {
	p := &lockwait.Policy{
		Session:     lockSession{r: r},
		LockTimeout: r.req.LockTimeout,
		Deadline:    r.req.Deadline,
		TimeoutCode: codeLockTimeout,
		SessionNoun: "session",
		Emit:        r.emit,
	}
	retries, err := p.Run(ctx, stmtNeeds{r: r, s: s}, attempt)
	r.out.Retries += retries
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return ctx.Err()
	}
	return err
}

// Server errors that say a statement's effect is already in the catalog.
var effectPresentErrors = map[int]bool{
	955:  true, // ORA-00955: name is already used by an existing object
	1430: true, // ORA-01430: column being added already exists in table
	1442: true, // ORA-01442: column to be modified to NOT NULL is already NOT NULL
	1451: true, // ORA-01451: column to be modified to NULL cannot be modified to NULL
	1408: true, // ORA-01408: such column list already indexed
	2260: true, // ORA-02260: table can have only one primary key
	2261: true, // ORA-02261: such unique or primary key already exists in the table
	2264: true, // ORA-02264: name already used by an existing constraint
	2275: true, // ORA-02275: such a referential constraint already exists in the table
}

// goneErrors say the object a drop removes is gone: its effect, for a
// statement that drops.
var goneErrors = map[int]bool{
	942:  true, // ORA-00942: table or view does not exist
	904:  true, // ORA-00904: invalid identifier (the dropped column)
	1418: true, // ORA-01418: specified index does not exist
	2443: true, // ORA-02443: cannot drop constraint - nonexistent constraint
	4043: true, // ORA-04043: object does not exist
}

// effectPresent reports whether err says s's effect is already there.
func effectPresent(err error, s statement) bool {
	code, ok := oraCode(err)
	return ok && (effectPresentErrors[code] || (s.drops && goneErrors[code]))
}

// oracleErrorOf returns go-ora's error in err's chain, if any.
func oracleErrorOf(err error) *network.OracleError {
	var oe *network.OracleError
	if errors.As(err, &oe) {
		return oe
	}
	return nil
}
