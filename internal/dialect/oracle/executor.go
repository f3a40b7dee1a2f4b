package oracle

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/domain"
)

var _ dialect.Executor = (*Conn)(nil)

const (
	defaultLockTimeout = 500 * time.Millisecond
	// cleanupTimeout bounds a check made after the caller's context ended.
	cleanupTimeout = 5 * time.Second

	levelInfo  = dialect.LevelInfo
	levelWarn  = dialect.LevelWarn
	levelError = dialect.LevelError
)

// Codes of the failures the executor makes itself.
var (
	codeLockTimeout      = codeText(oraResourceBusy)
	codeStatementTimeout = "ORA-01013" // user requested cancel of current operation
)

// errNotWritable is a step sent to a database not open read write.
var errNotWritable = errors.New("oracle: steps run on the primary: this database is not open read write")

// statementError is a failure of the script itself, which ends the step
// with StepOutcome.Error, not with an error.
type statementError = dialect.StatementError

// dbFailure is a DBError without its statement.
func dbFailure(msg, code string) domain.DBError { return domain.DBError{Message: msg, SQLState: code} }

// failedStatement classifies the error of running sql: the server's own
// errors belong to the outcome; anything else (a lost connection) is
// returned to the caller.
func failedStatement(sql string, err error) error {
	if code, ok := oraCode(err); ok {
		return &statementError{SQL: sql, DB: dbFailure(serverMessage(err), codeText(code)), Cause: err}
	}
	return fmt.Errorf("run %q: %w", firstWords(sql), err)
}

// serverMessage is the server's message ("ORA-00054: resource busy ...").
func serverMessage(err error) string {
	code, _ := oraCode(err)
	msg := err.Error()
	if oe := oracleErrorOf(err); oe != nil && oe.ErrMsg != "" {
		msg = oe.ErrMsg
	}
	if len(msg) < 4 || msg[:4] != "ORA-" {
		msg = codeText(code) + ": " + msg
	}
	return msg
}

// lockTimeoutCodes are the errors of a DDL that did not get its lock in
// time: the DML lock (ORA-00054, whether NOWAIT or ddl_lock_timeout ran
// out), a library cache lock (ORA-04021), a WAIT timeout (ORA-30006).
var lockTimeoutCodes = map[int]bool{oraResourceBusy: true, oraLibraryLockWait: true, oraBusyTimeout: true}

// isLockTimeout reports whether err is a lock timeout.
func isLockTimeout(err error) bool {
	var se *statementError
	if errors.As(err, &se) && se.DB.SQLState == codeLockTimeout {
		return true
	}
	code, ok := oraCode(err)
	return ok && lockTimeoutCodes[code]
}

// stepRun is one call of ExecuteStep. It owns the dedicated session the
// script runs on, and the outcome being built.
type stepRun struct {
	c            *Conn
	req          dialect.StepRequest
	events       func(dialect.StepEvent)
	started      time.Time
	conn         *sql.Conn
	sid          string // the session's SID
	schema       string // its CURRENT_SCHEMA
	allowOffline bool
	targets      []table // what the running statement locks
	out          dialect.StepOutcome
	// startedBefore are the statements an earlier delivery of the step
	// started (STEP_INTENT).
	startedBefore map[int]bool
}

// ExecuteStep applies req.Script following the dialect.Executor contract.
//
// DDL commits by itself in Oracle: every script runs statement by
// statement on one session, each statement marked in STEP_INTENT before
// it runs and recorded in STEP_PROGRESS once done, and a re-delivered step
// resumes after the last one done; the history row is written at the end.
// A statement an earlier delivery started whose effect the server reports
// already there (ORA-00955, ORA-01430, ORA-01442, ... or, for a drop,
// ORA-00942) counts as done.
//
// The lock timeout: ddl_lock_timeout is whole seconds, so the session gets
// the lock timeout rounded down. The 500 ms default therefore runs with
// ddl_lock_timeout = 0, that is NOWAIT: the DDL never queues for its DML
// lock, it fails at once with ORA-00054 when the table is held, and
// package lockwait's policy retries it (at once when the holders' end is
// seen, else with backoff and full jitter) until the deadline. A lock
// timeout of 2.5 s runs with ddl_lock_timeout = 2. The application never
// waits behind the DDL longer than the lock timeout it asked for.
//
// Before the first attempt the executor waits, outside the queue, for the
// long transactions holding a DML lock on the statement's table
// (v$lock, v$transaction); during an attempt it samples who
// blocks it (v$session.blocking_session).
//
// CREATE INDEX and ALTER INDEX ... REBUILD written without ONLINE run
// with ONLINE added; on a server without online builds (ORA-00439) they
// are refused unless the script has the line AllowOfflineDirective.
//
// A stored PL/SQL unit (package, procedure, trigger, ...) the server
// created with compilation errors fails the step (ORA-24344, with the
// first error from ALL_ERRORS): it exists but is INVALID.
//
// A dry run executes nothing: each statement is checked against the
// catalog instead. Cancelling ctx cancels the running statement (go-ora
// sends the server a break) and returns ctx.Err() wrapped.
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
	p, err := planScript(r.req.Script, r.schema)
	if err != nil {
		return err
	}
	r.allowOffline = p.allowOffline
	if r.req.DryRun {
		return r.dryRun(ctx, p)
	}
	if _, err := r.conn.ExecContext(ctx, ddlLockTimeoutSQL(r.req.LockTimeout)); err != nil {
		return failedStatement(ddlLockTimeoutSQL(r.req.LockTimeout), err)
	}
	if err := r.c.ensureHistory(ctx, r.conn); err != nil {
		return err
	}
	if err := checkStep(ctx, r.conn, r.schema, r.req); err != nil {
		return err
	}
	r.emit(levelInfo, fmt.Sprintf("running %d statement(s) one by one (Oracle commits each DDL by itself), with %s",
		len(p.stmts), ddlLockTimeoutSQL(r.req.LockTimeout)), "")
	return r.runStepwise(ctx, p)
}

// ddlLockTimeoutSQL sets the session's ddl_lock_timeout to the lock
// timeout rounded down to whole seconds (0: NOWAIT).
func ddlLockTimeoutSQL(lockTimeout time.Duration) string {
	return fmt.Sprintf("ALTER SESSION SET ddl_lock_timeout = %d", int64(lockTimeout/time.Second))
}

// sessionSQL reads the session's SID and current schema.
const sessionSQL = `SELECT SYS_CONTEXT('USERENV', 'SID'), SYS_CONTEXT('USERENV', 'CURRENT_SCHEMA') FROM dual`

// open takes the dedicated session, learns its SID and schema, and
// refuses a database that is not open read write.
func (r *stepRun) open(ctx context.Context) error {
	conn, err := r.c.session(ctx)
	if err != nil {
		return err
	}
	r.conn = conn
	if err := conn.QueryRowContext(ctx, sessionSQL).Scan(&r.sid, &r.schema); err != nil {
		return fmt.Errorf("read the session: %w", err)
	}
	d, err := readDatabase(ctx, conn)
	if err != nil {
		return err
	}
	if !d.writable() {
		return fmt.Errorf("%w (%s, %s)", errNotWritable, d.role, d.openMode)
	}
	return nil
}

// close discards the step's session: what the script set on it must not
// reach another user of the pool.
func (r *stepRun) close() {
	_ = r.conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = r.conn.Close()
}

// statementContext bounds one statement: req.StatementTimeout, else the
// time left until the deadline, else none.
func (r *stepRun) statementContext(ctx context.Context) (context.Context, context.CancelFunc) {
	switch {
	case r.req.StatementTimeout > 0:
		return context.WithTimeout(ctx, r.req.StatementTimeout)
	case !r.req.Deadline.IsZero():
		return context.WithDeadline(ctx, r.req.Deadline)
	}
	return context.WithCancel(ctx)
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
	if r.req.DryRun || r.schema == "" {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	h, err := readStepHistory(ctx, r.c.db, r.schema, r.req.ExecutionID, r.req.StepID)
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
