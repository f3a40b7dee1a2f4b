package sqlserver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/domain"
)

var _ dialect.Executor = (*Conn)(nil)

const (
	defaultLockTimeout = 500 * time.Millisecond
	// cleanupTimeout bounds a rollback or a check made after the caller's
	// context has ended.
	cleanupTimeout = 5 * time.Second

	// codeLockTimeout is error 1222, the outcome's code of a lock timeout.
	codeLockTimeout = "1222"

	levelInfo  = dialect.LevelInfo
	levelWarn  = dialect.LevelWarn
	levelError = dialect.LevelError

	beginSQL    = agentTag + "BEGIN TRANSACTION"
	commitSQL   = agentTag + "COMMIT TRANSACTION"
	rollbackSQL = agentTag + "IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION"
)

// statementError is a failure of the script itself, which ends the step
// with StepOutcome.Error, not with an error.
type statementError = dialect.StatementError

// dbFailure is a DBError without its statement.
func dbFailure(msg, code string) domain.DBError { return domain.DBError{Message: msg, SQLState: code} }

// failedStatement classifies the error of running sql: the server's own
// errors belong to the outcome; anything else (a lost connection) is
// returned to the caller.
func failedStatement(sql string, err error) error {
	if me, ok := serverError(err); ok {
		return &statementError{SQL: sql, DB: dbFailure(me.Message, strconv.Itoa(int(me.Number))), Cause: err}
	}
	return fmt.Errorf("run %q: %w", firstWords(sql), err)
}

// isLockTimeout reports whether err is a lock timeout (1222), or the
// session chosen as a deadlock victim (1205, which the executor's
// DEADLOCK_PRIORITY LOW makes it rather than the application): both are
// retried.
func isLockTimeout(err error) bool {
	var se *statementError
	if errors.As(err, &se) && (se.DB.SQLState == codeLockTimeout || se.DB.SQLState == strconv.Itoa(errDeadlockVictim)) {
		return true
	}
	me, ok := serverError(err)
	return ok && (me.Number == errLockTimeout || me.Number == errDeadlockVictim)
}

// stepRun is one call of ExecuteStep. It owns the dedicated session the
// script runs on, and the outcome being built.
type stepRun struct {
	c       *Conn
	req     dialect.StepRequest
	events  func(dialect.StepEvent)
	started time.Time
	conn    *sql.Conn
	facts   serverFacts
	targets []string // what the running unit locks
	out     dialect.StepOutcome
	// startedBefore are the batches an earlier delivery started
	// (step_intent).
	startedBefore map[int]bool
}

// ExecuteStep applies req.Script following the dialect.Executor contract.
//
// The script is cut into batches on its GO lines (package tsql) and runs
// on one session with SET LOCK_TIMEOUT (req.LockTimeout, default 500 ms),
// SET XACT_ABORT ON (an error rolls the transaction back whole) and SET
// DEADLOCK_PRIORITY LOW. When every batch may run in a user transaction
// (most DDL may), the whole script and its history row commit together in
// one; otherwise (ALTER DATABASE, CREATE FULLTEXT ..., BACKUP, RESUMABLE
// index operations, a batch with its own BEGIN TRAN) the batches run one
// by one under package stepwise, each in a transaction with its progress
// row where it may, and a re-delivered step resumes after the last batch
// done.
//
// A lock timeout (error 1222) or a deadlock (1205) is retried under package
// lockwait's policy: before the first attempt the executor waits out the
// sessions holding locks on the tables the batch changes
// (sys.dm_tran_locks), and after a timeout the sessions that blocked it
// (sys.dm_exec_requests.blocking_session_id), then tries again.
//
// An index build or rebuild that does not say ONLINE gets ONLINE = ON on
// the editions that build indexes online (Enterprise, Developer, Azure);
// on the others it is refused unless the script has the line
// AllowOfflineDirective.
//
// A dry run runs the transactional batches in a transaction it rolls back
// and checks the others against the catalog. Cancelling ctx cancels the
// running batch in the server (the driver sends an attention) and
// discards the session, which rolls back its transaction.
func (c *Conn) ExecuteStep(ctx context.Context, req dialect.StepRequest, events func(dialect.StepEvent)) (dialect.StepOutcome, error) {
	if req.LockTimeout <= 0 {
		req.LockTimeout = defaultLockTimeout
	}
	r := &stepRun{c: c, req: req, events: events, started: time.Now()}
	return r.finish(ctx, r.run(ctx))
}

// run opens the session, plans the script and runs the step on it.
func (r *stepRun) run(ctx context.Context) error {
	if err := r.open(ctx); err != nil {
		return err
	}
	defer r.close()
	p, err := planScript(r.req.Script, r.facts.online())
	if err != nil {
		return err
	}
	if err := r.checkOnline(p); err != nil {
		return err
	}
	if err := r.prepareSession(ctx); err != nil {
		return err
	}
	if r.req.DryRun {
		return r.dryRun(ctx, p)
	}
	if err := r.c.ensureHistory(ctx, r.conn); err != nil {
		return err
	}
	if p.transactional {
		r.emit(levelInfo, fmt.Sprintf("running %d statement(s) in one transaction with the step's history row", len(p.units)), "")
		return r.runTransactional(ctx, p)
	}
	if err := checkStep(ctx, r.conn, r.req); err != nil {
		return err
	}
	r.emit(levelInfo, r.announceStepwise(p), "")
	return r.runStepwise(ctx, p)
}

// announceStepwise says why the script runs batch by batch.
func (r *stepRun) announceStepwise(p scriptPlan) string {
	for _, b := range p.units {
		if !b.transactional {
			return fmt.Sprintf("running %d statement(s) one by one: %s holds %s, which cannot run in a user transaction",
				len(p.units), describeUnit(b), b.why)
		}
	}
	return fmt.Sprintf("running %d statement(s) one by one", len(p.units))
}

// open takes the dedicated session and reads the server's facts.
func (r *stepRun) open(ctx context.Context) error {
	conn, err := r.c.session(ctx)
	if err != nil {
		return err
	}
	r.conn = conn
	r.facts, err = readServerFacts(ctx, conn)
	return err
}

// close discards the step's session: its settings, and a transaction a
// cancel left open, must not reach another user of the pool.
func (r *stepRun) close() {
	_ = r.conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = r.conn.Close()
}

// prepareSession sets the session's lock timeout, abort and deadlock rules.
func (r *stepRun) prepareSession(ctx context.Context) error {
	stmt := r.sessionSettings(r.req.LockTimeout)
	if _, err := r.conn.ExecContext(ctx, stmt); err != nil {
		return failedStatement(stmt, err)
	}
	return nil
}

// sessionSettings is the batch that prepares the step's session.
func (r *stepRun) sessionSettings(lockTimeout time.Duration) string {
	ms := max(1, lockTimeout.Milliseconds())
	return fmt.Sprintf("%sSET LOCK_TIMEOUT %d; SET XACT_ABORT ON; SET DEADLOCK_PRIORITY LOW", agentTag, ms)
}

// checkOnline refuses, unless the script allows it, index builds that
// would run offline, and reports those given ONLINE = ON.
func (r *stepRun) checkOnline(p scriptPlan) error {
	for _, b := range p.units {
		for _, o := range b.onlined {
			r.emit(levelInfo, fmt.Sprintf("%s: %s runs with ONLINE = ON", describeUnit(b), o), b.sql)
		}
		for _, o := range b.offline {
			msg := fmt.Sprintf("%s: %s would build the index offline: the %s edition (EngineEdition %d) has no online index "+
				"operations (Enterprise, Developer and Azure SQL have), so the table is locked for the whole build",
				describeUnit(b), o, r.facts.edition, r.facts.engineEdition)
			if !p.allowOffline {
				return &statementError{SQL: b.sql, DB: dbFailure(msg+"; add the line "+AllowOfflineDirective+" to allow it", "")}
			}
			r.emit(levelWarn, msg+" (allowed by "+AllowOfflineDirective+")", b.sql)
		}
	}
	return nil
}

// statementTimeout is req.StatementTimeout, else the time left until the
// deadline, else none (0).
func (r *stepRun) statementTimeout() time.Duration {
	switch {
	case r.req.StatementTimeout > 0:
		return r.req.StatementTimeout
	case r.req.Deadline.IsZero():
		return 0
	}
	return max(time.Until(r.req.Deadline), time.Millisecond)
}

// runBatch sends b (repeated as its GO count says) and measures it. The
// statement timeout is the context's: the driver cancels the batch in the
// server when it passes.
func (r *stepRun) runBatch(ctx context.Context, b unit, attempt int) (domain.StatementResult, error) {
	if d := r.statementTimeout(); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	start := time.Now()
	var rows int64
	for range b.repeat {
		res, err := r.conn.ExecContext(ctx, b.run)
		if err != nil {
			return domain.StatementResult{}, failedStatement(b.sql, err)
		}
		n, _ := res.RowsAffected()
		rows += n
	}
	return domain.StatementResult{Index: b.index, SQL: r.scrubText(b.sql), StartedAt: start.UTC(),
		DurationMs: milliseconds(time.Since(start)), RowsAffected: rows, Attempts: attempt}, nil
}

// rollback ends the session's transaction, if any, even after ctx ended.
func (r *stepRun) rollback(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_, _ = r.conn.ExecContext(ctx, rollbackSQL)
}

// finish turns run's error into the outcome and the error the contract
// asks for.
func (r *stepRun) finish(ctx context.Context, err error) (dialect.StepOutcome, error) {
	return dialect.FinishStep(ctx, err, dialect.StepEnd{StepID: r.req.StepID, Target: r.c.target, Outcome: r.out,
		AppliedDespiteCancel: r.appliedDespiteCancel, ScrubErr: r.c.scrub}, r.report())
}

// appliedDespiteCancel reports whether the step's history row exists
// after a cancel.
func (r *stepRun) appliedDespiteCancel() bool {
	if r.req.DryRun {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if ok, err := historyExists(ctx, r.c.db); err != nil || !ok {
		return false
	}
	var n int
	err := r.c.db.QueryRowContext(ctx, historyRowSQL, r.req.ExecutionID, r.req.StepID).Scan(&n)
	return err == nil && n > 0
}

// historyRowSQL counts one step's history rows.
const historyRowSQL = agentTag + `SELECT count(*) FROM hotswap.schema_history WHERE execution_id = @p1 AND step_id = @p2`

// report delivers the step's events to the caller, scrubbed of the
// instance's password.
func (r *stepRun) report() dialect.StepReport {
	return dialect.StepReport{Events: r.events, Scrub: r.scrubText}
}

// emit sends an event to the caller.
func (r *stepRun) emit(level, msg, sql string) { r.report().Emit(level, msg, sql) }

// send stamps, scrubs and delivers e.
func (r *stepRun) send(e dialect.StepEvent) { r.report().Send(e) }

// scrubText removes the instance's password from text that leaves the agent.
func (r *stepRun) scrubText(s string) string { return r.c.scrubText(s) }
