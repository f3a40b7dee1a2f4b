package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/domain"
)

var _ dialect.Executor = (*Conn)(nil)

const (
	defaultLockTimeout = 500 * time.Millisecond
	// cleanupTimeout bounds a KILL or a check made after the caller's
	// context has ended.
	cleanupTimeout = 5 * time.Second

	// Server error numbers, as the outcome's code.
	codeLockWaitTimeout   = "1205"
	codeQueryInterrupted  = 1317
	codeAlterNotSupported = "1845"

	levelInfo  = dialect.LevelInfo
	levelWarn  = dialect.LevelWarn
	levelError = dialect.LevelError
)

// statementError is a failure of the script itself, which ends the step
// with StepOutcome.Error, not with an error.
type statementError = dialect.StatementError

// dbFailure is a DBError without its statement.
func dbFailure(msg, code string) domain.DBError { return domain.DBError{Message: msg, SQLState: code} }

// notSupported are the server's "this algorithm cannot do that" errors:
// ER_ALTER_OPERATION_NOT_SUPPORTED and its _REASON forms (MySQL 1845,
// 1846; MariaDB's per-reason codes 4092 onwards are in the same family).
var notSupported = map[uint16]bool{1845: true, 1846: true, 1847: true, 4092: true, 4093: true, 4094: true, 4095: true}

// failedStatement classifies the error of running sql: the server's own
// errors belong to the outcome; anything else (a lost connection) is
// returned to the caller.
func failedStatement(sql string, err error) error {
	if me, ok := serverError(err); ok {
		return &statementError{SQL: sql, DB: dbFailure(me.Message, strconv.Itoa(int(me.Number))), Cause: err}
	}
	return fmt.Errorf("run %q: %w", firstWords(sql), err)
}

// isLockTimeout reports whether err is a lock wait timeout: the server's
// (ER_LOCK_WAIT_TIMEOUT) or the executor's own (a statement killed after
// waiting one lock timeout for a metadata lock).
func isLockTimeout(err error) bool {
	var se *statementError
	if errors.As(err, &se) && se.DB.SQLState == codeLockWaitTimeout {
		return true
	}
	me, ok := serverError(err)
	return ok && strconv.Itoa(int(me.Number)) == codeLockWaitTimeout
}

// isNotSupported reports whether err says the algorithm cannot do it.
func isNotSupported(err error) bool {
	var se *statementError
	if errors.As(err, &se) {
		n, _ := strconv.Atoi(se.DB.SQLState)
		return notSupported[uint16(n)]
	}
	return false
}

// stepRun is one call of ExecuteStep. It owns the dedicated session the
// script runs on, and the outcome being built.
type stepRun struct {
	c       *Conn
	req     dialect.StepRequest
	events  func(dialect.StepEvent)
	started time.Time
	conn    *sql.Conn
	id      int64 // the session's CONNECTION_ID()
	replica bool
	mdl     bool    // performance_schema instruments metadata locks
	targets []table // what the running unit locks
	out     dialect.StepOutcome
	// startedBefore are the statements an earlier delivery of the step
	// started (step_intent).
	startedBefore map[int]bool
}

// ExecuteStep applies req.Script following the dialect.Executor contract.
//
// DDL is not transactional in MySQL or MariaDB: every script runs
// statement by statement on one session, each completed statement
// recorded in hotswap.step_progress, and a re-delivered step resumes
// after the last one done; the history row is written at the end. On a
// replica, and when req.Local is set, the session runs with sql_log_bin=0:
// the change stays on this server (a rolling schema change).
//
// Each statement waits at most req.LockTimeout for its metadata lock: the
// server's lock_wait_timeout is whole seconds, so the executor watches its
// own session and kills the statement (KILL QUERY, from another session)
// once it has waited one lock timeout; lock_wait_timeout, rounded up,
// stays as a backstop. Lock timeouts are retried under package lockwait's
// policy, each retry starting as soon as the sessions that held the lock
// have let it go (performance_schema.metadata_locks when instrumented,
// else information_schema.INNODB_TRX).
//
// An ALTER TABLE that names no algorithm tries ALGORITHM=INSTANT, then
// INPLACE with LOCK=NONE; when only COPY remains it is refused unless the
// script has the line AllowCopyDirective. A CREATE INDEX tries INPLACE
// with LOCK=NONE the same way.
//
// A dry run executes nothing: each statement is checked against the
// catalog instead. Cancelling ctx kills the running statement with KILL
// QUERY and returns ctx.Err() wrapped.
func (c *Conn) ExecuteStep(ctx context.Context, req dialect.StepRequest, events func(dialect.StepEvent)) (dialect.StepOutcome, error) {
	if req.LockTimeout <= 0 {
		req.LockTimeout = defaultLockTimeout
	}
	r := &stepRun{c: c, req: req, events: events, started: time.Now()}
	return r.finish(ctx, r.run(ctx))
}

// run plans the script, opens the session and runs the step on it.
func (r *stepRun) run(ctx context.Context) error {
	p, err := planScript(r.req.Script, r.c.schema)
	if err != nil {
		return err
	}
	if err := r.open(ctx); err != nil {
		return err
	}
	defer r.close()
	if r.req.DryRun {
		return r.dryRun(ctx, p)
	}
	if err := r.prepareSession(ctx); err != nil {
		return err
	}
	if err := r.c.ensureHistory(ctx, r.conn); err != nil {
		return err
	}
	if err := checkStep(ctx, r.conn, r.c.schema, r.req); err != nil {
		return err
	}
	r.emit(levelInfo, r.announce(p), "")
	return r.runStepwise(ctx, p)
}

// announce says how the script will run.
func (r *stepRun) announce(p scriptPlan) string {
	where := "binary-logged, so replicas get it through replication"
	if r.localOnly() {
		where = "with sql_log_bin=0: the change stays on this server"
	}
	return fmt.Sprintf("running %d statement(s) one by one (DDL is not transactional here), %s", len(p.stmts), where)
}

// localOnly reports whether the session keeps its changes out of the
// binary log.
func (r *stepRun) localOnly() bool { return r.replica || r.req.Local }

// open takes the dedicated session and learns its id, whether the server
// is a replica and whether metadata locks are instrumented.
func (r *stepRun) open(ctx context.Context) error {
	conn, err := r.c.session(ctx)
	if err != nil {
		return err
	}
	r.conn = conn
	if err := conn.QueryRowContext(ctx, `SELECT CONNECTION_ID()`).Scan(&r.id); err != nil {
		return fmt.Errorf("connection id: %w", err)
	}
	var v serverVars
	if err := v.read(ctx, conn); err != nil {
		return err
	}
	ups, err := readReplicaStatus(ctx, conn, v.mariadb)
	if err != nil {
		return err
	}
	r.replica = len(ups) > 0
	r.mdl = mdlInstrumented(ctx, conn)
	return nil
}

// close discards the step's session: what the script set on it (and
// sql_log_bin) must not reach another user of the pool.
func (r *stepRun) close() {
	_ = r.conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = r.conn.Close()
}

// prepareSession sets the session's timeouts and binary logging.
func (r *stepRun) prepareSession(ctx context.Context) error {
	secs := max(1, int(math.Ceil(r.req.LockTimeout.Seconds())))
	stmts := []string{
		fmt.Sprintf("SET SESSION lock_wait_timeout = %d", secs),
		fmt.Sprintf("SET SESSION innodb_lock_wait_timeout = %d", secs),
	}
	if r.localOnly() {
		stmts = append(stmts, "SET SESSION sql_log_bin = 0")
	}
	for _, s := range stmts {
		if _, err := r.conn.ExecContext(ctx, s); err != nil {
			return failedStatement(s, err)
		}
	}
	return nil
}

// setStatementTimeout bounds the next statement (MariaDB's
// max_statement_time, fractional seconds); MySQL has no such bound for
// DDL, and is left as it is.
func (r *stepRun) setStatementTimeout(ctx context.Context) {
	d := r.statementTimeout()
	_, _ = r.conn.ExecContext(ctx, fmt.Sprintf("SET SESSION max_statement_time = %.3f", d.Seconds()))
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
	h, err := readStepHistory(ctx, r.c.db, r.c.schema, r.req.ExecutionID, r.req.StepID)
	return err == nil && h.applied
}

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
