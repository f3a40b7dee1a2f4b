package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/lockwait"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/sqlcheck/pgcheck"
)

var _ dialect.Executor = (*Conn)(nil)

const (
	defaultLockTimeout = 500 * time.Millisecond
	// cleanupTimeout bounds a rollback or a reset made after the caller's
	// context has ended.
	cleanupTimeout = 5 * time.Second

	sqlstateLockNotAvailable = "55P03"
	sqlstateSyntaxError      = "42601"
	sqlstateUndefinedTable   = "42P01"
	sqlstateDuplicateTable   = "42P07"
	sqlstateUndefinedObject  = "42704"
	sqlstateWrongObjectType  = "42809"

	levelInfo  = dialect.LevelInfo
	levelWarn  = dialect.LevelWarn
	levelError = dialect.LevelError
)

// statementError is a failure of the script itself, which ends the step
// with StepOutcome.Error, not with an error.
type statementError = dialect.StatementError

// dbFailure is a DBError without its statement, which finish fills.
func dbFailure(msg, sqlstate string) domain.DBError {
	return domain.DBError{Message: msg, SQLState: sqlstate}
}

// failedStatement classifies the error of running sql: the database's own
// errors belong to the outcome; anything else (a lost connection) is
// returned to the caller.
func failedStatement(sql string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		db := dbFailure(pgErr.Message, pgErr.Code)
		db.Detail, db.Hint = pgErr.Detail, pgErr.Hint
		return &statementError{SQL: sql, DB: db, Cause: err}
	}
	return fmt.Errorf("run %q: %w", pgcheck.FirstWords(sql), err)
}

// isLockTimeout reports whether err is PostgreSQL's lock_timeout.
func isLockTimeout(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == sqlstateLockNotAvailable
}

// stepRun is one call of ExecuteStep. It owns the dedicated session the
// script runs on, and the outcome being built.
type stepRun struct {
	c       *Conn
	req     dialect.StepRequest
	events  func(dialect.StepEvent)
	started time.Time
	conn    *pgxpool.Conn
	pid     int32
	// version is the server's server_version_num.
	version int
	// claimed: the session holds the step's lock (claim.go).
	claimed bool
	// schemaDue: the step committed, and the whole schema's record is due
	// (the step's tail, tail.go).
	schemaDue bool
	// canProbe: the transaction's first attempt may be a probe, which
	// locks probe without waiting first (probe.go); set by readAhead.
	canProbe bool
	probe    []lockTarget
	out      dialect.StepOutcome
}

// ExecuteStep applies req.Script following the dialect.Executor contract.
//
// A script whose statements may all run in a transaction block runs in one
// transaction on one session, with SET LOCAL lock_timeout and
// statement_timeout, and its history row commits with it. A script with a
// statement that cannot (CREATE INDEX CONCURRENTLY, VACUUM, ...) or with
// its own BEGIN/COMMIT runs statement by statement in autocommit (an
// explicit block of the script is one unit), each completed statement
// recorded in hotswap.step_progress. Lock timeouts are retried until
// req.Deadline, each retry starting as soon as the sessions that blocked it
// have ended their transactions. Index in StatementResult and
// step_progress counts from 0.
//
// A rollback step that names the forward step it reverts (req.Reverts)
// undoes only what that step applied: see undo.go.
//
// A dry run runs the script in one transaction that is rolled back; the
// statements that cannot run in a transaction are checked against the
// catalog instead (CREATE/DROP INDEX) and reported in events. It creates
// no history table, and checks the fencing token only when one exists.
//
// Database errors end the step in StepOutcome.Error; a stale fencing token
// returns an error wrapping dialect.ErrStaleToken; a cancelled ctx cancels
// the running statement in the server and returns ctx.Err() wrapped. The
// role should be able to read other sessions' pg_stat_activity rows
// (pg_read_all_stats): without it, retries fall back to plain backoff.
func (c *Conn) ExecuteStep(ctx context.Context, req dialect.StepRequest, events func(dialect.StepEvent)) (dialect.StepOutcome, error) {
	if req.LockTimeout <= 0 {
		req.LockTimeout = defaultLockTimeout
	}
	r := &stepRun{c: c, req: req, events: events, started: time.Now()}
	return r.finish(ctx, r.run(ctx))
}

// run plans the script, opens the session and runs the step on it.
func (r *stepRun) run(ctx context.Context) error {
	p, err := planScript(r.req.Script)
	if err != nil {
		return err
	}
	r.out.Transactional = p.transactional
	if err := r.settle(ctx); err != nil {
		return err
	}
	if err := r.open(ctx); err != nil {
		return err
	}
	defer r.release(ctx)
	if err := r.claim(ctx); err != nil {
		return err
	}
	if err := r.checkHistory(ctx); err != nil {
		return err
	}
	p, scope, err := r.trimUndo(ctx, p)
	if err != nil {
		return err
	}
	r.announce(p)
	if p.transactional || r.req.DryRun {
		err = r.runTransactional(ctx, p)
	} else {
		err = r.runStepwise(ctx, p)
	}
	if err == nil && scope != nil {
		r.checkUndone(ctx, scope)
	}
	return err
}

// committedDespiteCancel reports whether the step's history row exists
// after a cancel: a cancel that lands during or right after COMMIT must not
// turn an applied step into one reported as not applied.
func (r *stepRun) committedDespiteCancel() bool {
	if r.req.DryRun {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	h, err := readStepHistory(ctx, r.c.pool, r.req.ExecutionID, r.req.StepID)
	return err == nil && h.applied
}

// finish turns run's error into the outcome and the error the contract
// asks for.
func (r *stepRun) finish(ctx context.Context, err error) (dialect.StepOutcome, error) {
	return dialect.FinishStep(ctx, err, dialect.StepEnd{StepID: r.req.StepID, Target: r.c.target, Outcome: r.out,
		AppliedDespiteCancel: r.committedDespiteCancel, ScrubErr: r.c.scrub}, r.report())
}

// open takes the dedicated session from the pool, learns its backend PID
// (which the blocker watch asks about) and the server's version, and gives
// the session its server-side bounds (bounds.go). Statements run with the
// caller's ctx: when it ends, pgx sends the server a cancel request for
// the running statement and closes the session.
func (r *stepRun) open(ctx context.Context) error {
	conn, err := r.c.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("%w: %w", dialect.ErrUnreachable, err)
	}
	const sql = `SELECT pg_backend_pid(), current_setting('server_version_num')::int`
	if err := conn.QueryRow(ctx, sql).Scan(&r.pid, &r.version); err != nil {
		conn.Release()
		return fmt.Errorf("backend pid: %w", err)
	}
	r.conn = conn
	if err := r.setBounds(ctx, conn); err != nil {
		r.close(ctx)
		return err
	}
	return nil
}

// close releases the step's lock, resets what the script may have set on
// the session (RESET ALL: the timeouts and any SET of the script) and
// returns it to the pool, or closes it when it cannot be trusted any more.
func (r *stepRun) close(ctx context.Context) {
	defer r.conn.Release()
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	conn := r.conn.Conn()
	if ctx.Err() != nil || conn.PgConn().TxStatus() != 'I' || !r.unclaim(cctx) {
		_ = conn.Close(cctx)
		return
	}
	if _, err := conn.Exec(cctx, "RESET ALL"); err != nil {
		_ = conn.Close(cctx)
	}
}

// checkHistory makes sure the bookkeeping tables exist (a dry run only
// looks), then refuses a stale token and recognises a re-delivery. The
// tables are created before the first attempt, not in the step's
// transaction: a lock-timeout retry would roll their creation back and
// redo it, after the moment the retry policy picked for entering the lock
// queue.
func (r *stepRun) checkHistory(ctx context.Context) error {
	if r.req.DryRun {
		ok, err := historyExists(ctx, r.conn)
		if err != nil || !ok {
			return err
		}
	} else if _, err := r.c.ensureHistory(ctx, r.conn); err != nil {
		return err
	}
	return checkStep(ctx, r.conn, r.req)
}

// announce tells the operator how the script will run.
func (r *stepRun) announce(p scriptPlan) {
	switch {
	case r.req.DryRun:
		r.emit(levelInfo, fmt.Sprintf("dry run: %d statement(s) in a transaction that is rolled back", len(p.stmts)), "")
	case p.transactional:
		r.emit(levelInfo, fmt.Sprintf("running %d statement(s) in one transaction", len(p.stmts)), "")
	}
	if !p.transactional {
		r.emit(levelInfo, p.reason, "")
	}
}

// runTransactional runs the whole script in one transaction, retried as a
// whole on a lock timeout. A dry run always rolls it back.
func (r *stepRun) runTransactional(ctx context.Context, p scriptPlan) error {
	if err := r.readAhead(ctx, p); err != nil {
		return err
	}
	return r.withLockRetries(ctx, needsOf(p.stmts), func(ctx context.Context, n int) error {
		return r.txAttempt(ctx, p, n)
	})
}

// txAttempt is one attempt of the transaction, in as few round trips as
// it allows: one to open it (openTx), one per statement, and one to record
// the step and commit. Each round trip more is time the application waits
// behind the DDL's lock, or for the step to start once a blocker is gone.
func (r *stepRun) txAttempt(ctx context.Context, p scriptPlan, n int) error {
	defer r.endTx(ctx)
	if err := r.openTx(ctx); err != nil {
		return err
	}
	stmts := p.stmts
	if lockwait.Probing(ctx) && len(r.probe) > 0 {
		stmts = slices.Clone(stmts)
		stmts[0].lockFirst = probeSQL(r.probe)
	}
	results, err := r.runAll(ctx, r.conn, stmts, n)
	r.out.Statements = results
	if err != nil || r.req.DryRun {
		return err
	}
	b := &pipeline{}
	if err := queueRecord(b, r.req, p, r.started); err != nil {
		return err
	}
	b.queue(func(err error) error { return failedStatement("COMMIT", err) }, "COMMIT")
	if err := b.run(ctx, r.conn); err != nil {
		return err
	}
	r.emitDone(results)
	r.schemaDue = true
	return nil
}

// endTx rolls back the attempt's transaction if it is still open (a
// failure, a dry run), even after ctx has ended.
func (r *stepRun) endTx(ctx context.Context) {
	conn := r.conn.Conn()
	if conn.IsClosed() || conn.PgConn().TxStatus() == 'I' {
		return
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_, _ = conn.Exec(cctx, "ROLLBACK")
}

// readAhead reads, in one round trip before the step's transaction, the
// catalog of the tables the step touches (thrown away: see below) and what
// the probe needs to know of the tables it locks (probe.go). The catalog
// read inside the transaction runs while the step holds its locks, so that
// the record is exactly what the step made; done first on the session, it
// costs a statement preparation and a cold catalog cache (15 ms under
// pgbench, against 2 ms warm), all of it time the application waits
// behind the lock. A dry run records nothing and is not probed.
func (r *stepRun) readAhead(ctx context.Context, p scriptPlan) error {
	if r.req.DryRun {
		return nil
	}
	b := &pgx.Batch{}
	readCatalog := queueTouched(b, p)
	readKinds := r.queueRelationKinds(b, p)
	if b.Len() == 0 {
		return nil
	}
	br := r.conn.SendBatch(ctx, b)
	defer br.Close()
	if err := readCatalog(br); err != nil {
		return fmt.Errorf("read the catalog of the step's tables: %w", err)
	}
	if err := readKinds(br); err != nil {
		return err
	}
	return br.Close()
}

// openTx begins the attempt's transaction, sets its timeouts and, unless
// it is a dry run, locks the history and repeats the history checks (so
// that they hold at commit), all in one round trip.
func (r *stepRun) openTx(ctx context.Context) error {
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(localTimeoutsSQL, pgDuration(r.req.LockTimeout), pgDuration(r.statementTimeout()),
		pgDuration(idleInTransactionTimeout(r.req.Deadline)))
	if !r.req.DryRun {
		b.Queue(lockHistorySQL)
		b.Queue(stepHistorySQL, r.req.ExecutionID, r.req.StepID)
	}
	br := r.conn.SendBatch(ctx, b)
	defer br.Close()
	for range b.Len() - 1 {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("open the step's transaction: %w", err)
		}
	}
	if r.req.DryRun {
		return br.Close()
	}
	var h stepHistory
	if err := br.QueryRow().Scan(&h.maxToken, &h.applied); err != nil {
		return fmt.Errorf("read history: %w", err)
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("open the step's transaction: %w", err)
	}
	return judgeStep(r.req, h)
}

// localTimeoutsSQL sets lock_timeout, statement_timeout and
// idle_in_transaction_session_timeout for the transaction, as
// setSessionTimeouts does for a session, from durations this package
// writes (pgDuration). Its text does not change with the values, so the
// session prepares it once.
const localTimeoutsSQL = `SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true),
	set_config('idle_in_transaction_session_timeout', $3, true)`

// rollback ends tx if it is still open, even after ctx has ended.
func rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_ = tx.Rollback(ctx)
}

// runAll runs stmts in order on q; in a dry run the statements that cannot
// run in a transaction are checked instead.
func (r *stepRun) runAll(ctx context.Context, q execQuerier, stmts []statement, attempt int) ([]domain.StatementResult, error) {
	var results []domain.StatementResult
	for _, s := range stmts {
		if r.req.DryRun && (s.noTx != "" || s.txControl) {
			if err := r.dryCheck(ctx, q, s); err != nil {
				return results, err
			}
			continue
		}
		res, err := r.runOne(ctx, q, s, attempt)
		if err != nil {
			return results, err
		}
		results = append(results, res)
	}
	return results, nil
}

// runOne runs one statement and measures it. The statement runs with the
// caller's ctx, so cancelling it cancels the statement.
func (r *stepRun) runOne(ctx context.Context, q execQuerier, s statement, attempt int) (domain.StatementResult, error) {
	start := time.Now()
	tag, err := q.Exec(ctx, s.lockFirst+s.sql)
	if err != nil {
		return domain.StatementResult{}, failedStatement(s.sql, err)
	}
	return domain.StatementResult{
		Index: s.index, SQL: r.scrubText(s.sql), StartedAt: start.UTC(),
		DurationMs: milliseconds(time.Since(start)), RowsAffected: tag.RowsAffected(), Attempts: attempt,
	}, nil
}

// setSessionTimeouts sets lock_timeout, statement_timeout and
// idle_in_transaction_session_timeout for the session (a stepwise unit; a
// transaction sets them in openTx): the last two shrink as the deadline
// nears.
func (r *stepRun) setSessionTimeouts(ctx context.Context, q execQuerier) error {
	const sql = `SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false),
		set_config('idle_in_transaction_session_timeout', $3, false)`
	_, err := q.Exec(ctx, sql, pgDuration(r.req.LockTimeout), pgDuration(r.statementTimeout()),
		pgDuration(idleInTransactionTimeout(r.req.Deadline)))
	if err != nil {
		return fmt.Errorf("set timeouts: %w", err)
	}
	return nil
}

// statementTimeout is req.StatementTimeout, never past the deadline, else
// the time left until the deadline, else none (0).
func (r *stepRun) statementTimeout() time.Duration {
	left := untilDeadline(r.req.Deadline)
	switch {
	case r.req.StatementTimeout > 0 && left > 0:
		return min(r.req.StatementTimeout, left)
	case r.req.StatementTimeout > 0:
		return r.req.StatementTimeout
	}
	return left
}

// pgDuration writes d as a PostgreSQL duration in whole milliseconds,
// rounded up; "0" disables the timeout.
func pgDuration(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	return strconv.FormatInt(int64(ms), 10) + "ms"
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

// emitDone reports each completed statement.
func (r *stepRun) emitDone(results []domain.StatementResult) {
	for _, res := range results {
		msg := fmt.Sprintf("statement %d done in %.1f ms (attempt %d)", res.Index+1, res.DurationMs, res.Attempts)
		r.send(dialect.StepEvent{Level: levelInfo, Message: msg, Statement: res.SQL, Done: &res})
	}
}

// scrubText removes the instance's password from text that leaves the agent.
func (r *stepRun) scrubText(s string) string { return dialect.Scrub(s, r.c.secrets...) }
