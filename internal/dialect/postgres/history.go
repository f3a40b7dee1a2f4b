package postgres

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// The history tables live in the target database itself, so that a step and
// its history row commit together (design invariant 2).
const (
	historySchemaSQL = `CREATE SCHEMA IF NOT EXISTS hotswap`
	historyTableSQL  = `CREATE TABLE IF NOT EXISTS hotswap.schema_history (
	execution_id   text NOT NULL,
	step_id        text NOT NULL,
	migration_id   text NOT NULL,
	migration_name text NOT NULL,
	direction      text NOT NULL,
	checksum       text NOT NULL,
	fencing_token  bigint NOT NULL,
	applied_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
	duration_ms    double precision NOT NULL,
	applied_by     text NOT NULL,
	PRIMARY KEY (execution_id, step_id))`
	progressTableSQL = `CREATE TABLE IF NOT EXISTS hotswap.step_progress (
	execution_id    text NOT NULL,
	step_id         text NOT NULL,
	statement_index integer NOT NULL,
	completed_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
	PRIMARY KEY (execution_id, step_id, statement_index))`
	// historyExistsSQL is true once both tables exist.
	historyExistsSQL = `SELECT to_regclass('hotswap.schema_history') IS NOT NULL
	AND to_regclass('hotswap.step_progress') IS NOT NULL`
	// historyLockSQL serialises the creation of the tables by concurrent
	// sessions, which CREATE ... IF NOT EXISTS alone does not.
	historyLockSQL = `SELECT pg_advisory_xact_lock(hashtext('hotswap.schema_history'))`
	// historyCreateLockTimeout bounds the creation's wait for locks.
	historyCreateLockTimeout = "2s"
)

// bookkeepingSQL creates the schema and every bookkeeping table (history,
// step progress, fingerprints) in one round trip and one implicit
// transaction: the advisory lock, held to its end, makes concurrent
// creators take turns.
var bookkeepingSQL = strings.Join([]string{historyLockSQL, historySchemaSQL, historyTableSQL,
	progressTableSQL, fingerprintTableSQL}, ";\n")

// bookkeepingStateSQL is true once every bookkeeping table exists.
const bookkeepingStateSQL = `SELECT to_regclass('hotswap.schema_history') IS NOT NULL
	AND to_regclass('hotswap.step_progress') IS NOT NULL AND to_regclass('hotswap.schema_fingerprint') IS NOT NULL`

// historyState remembers, for one Conn, that the bookkeeping tables exist.
type historyState struct {
	mu    sync.Mutex
	ready bool
}

// execQuerier is a session that also runs commands: a pooled connection
// or a transaction.
type execQuerier interface {
	querier
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// session is an execQuerier that also pipelines a batch of statements in
// one round trip.
type session interface {
	execQuerier
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// ensureHistory creates the bookkeeping tables on first use through c, in
// one round trip and one transaction of their own with a short lock
// timeout, on conn (idle, outside a transaction). Concurrent callers wait
// for the first one. It reports whether this call created them.
func (c *Conn) ensureHistory(ctx context.Context, conn execQuerier) (created bool, err error) {
	c.hist.mu.Lock()
	defer c.hist.mu.Unlock()
	if c.hist.ready {
		return false, nil
	}
	var complete bool
	err = conn.QueryRow(ctx, bookkeepingStateSQL).Scan(&complete)
	if err == nil && !complete {
		// One simple-protocol query string: one implicit transaction.
		_, err = conn.Exec(ctx, "SELECT set_config('lock_timeout', '"+historyCreateLockTimeout+"', true);\n"+bookkeepingSQL)
	}
	if err != nil {
		return false, fmt.Errorf("create history tables: %w", err)
	}
	c.hist.ready = true
	return !complete, nil
}

// PrepareHistory creates the bookkeeping tables ahead of the first step
// (dialect.HistoryPreparer), on a primary only (a standby gets them from
// its primary), and not where schema hotswap would come first on the
// role's search_path (the preflight fails on that).
func (c *Conn) PrepareHistory(ctx context.Context) (bool, error) {
	var standby, trap bool
	err := c.pool.QueryRow(ctx, `SELECT pg_is_in_recovery(), `+historyOnSearchPathSQL).Scan(&standby, &trap)
	if err != nil {
		return false, c.scrub(fmt.Errorf("prepare history on %s: %w", c.target, err))
	}
	if standby || trap {
		// A schema on the role's search path would take its new tables;
		// the preflight says so, with the fix.
		return false, nil
	}
	created, err := c.ensureHistory(ctx, c.pool)
	if err != nil {
		return false, c.scrub(fmt.Errorf("prepare history on %s: %w", c.target, err))
	}
	return created, nil
}

// historyExists reports whether the history tables exist, without
// creating them (dry runs and History leave no trace, and work on a
// read-only standby).
func historyExists(ctx context.Context, q querier) (bool, error) {
	var ok bool
	if err := q.QueryRow(ctx, historyExistsSQL).Scan(&ok); err != nil {
		return false, fmt.Errorf("look up history tables: %w", err)
	}
	return ok, nil
}

// stepHistory is what the history says about one step: the highest fencing token recorded, and
// whether the step itself is recorded.
type stepHistory struct {
	maxToken int64
	applied  bool
}

// stepHistorySQL reads the fencing high-water mark and whether the step
// ($1, $2) is recorded.
const stepHistorySQL = `SELECT coalesce(max(fencing_token), 0),
	coalesce(bool_or(execution_id = $1 AND step_id = $2), false)
	FROM hotswap.schema_history`

// readStepHistory reads the fencing high-water mark and the step's row.
func readStepHistory(ctx context.Context, q querier, executionID, stepID string) (stepHistory, error) {
	var h stepHistory
	if err := q.QueryRow(ctx, stepHistorySQL, executionID, stepID).Scan(&h.maxToken, &h.applied); err != nil {
		return stepHistory{}, fmt.Errorf("read history: %w", err)
	}
	return h, nil
}

// lockHistorySQL makes concurrent writers of the history take turns inside
// their transactions, so a fencing check cannot race another step's commit.
// Readers (History) are not blocked.
const lockHistorySQL = `LOCK TABLE hotswap.schema_history IN SHARE ROW EXCLUSIVE MODE`

// errAlreadyApplied says the step is in the history: a re-delivery.
var errAlreadyApplied = dialect.ErrAlreadyApplied

// checkStep refuses a stale fencing token and recognises a re-delivery.
func checkStep(ctx context.Context, q querier, req dialect.StepRequest) error {
	h, err := readStepHistory(ctx, q, req.ExecutionID, req.StepID)
	if err != nil {
		return err
	}
	return judgeStep(req, h)
}

// judgeStep refuses a stale fencing token and recognises a re-delivery
// from what the history says about the step.
func judgeStep(req dialect.StepRequest, h stepHistory) error {
	token, err := tokenValue(req.FencingToken)
	if err != nil {
		return err
	}
	if token < h.maxToken {
		return fmt.Errorf("%w: step %s carries fencing token %d, the instance has recorded token %d",
			dialect.ErrStaleToken, req.StepID, token, h.maxToken)
	}
	if h.applied {
		return errAlreadyApplied
	}
	return nil
}

// tokenValue converts a fencing token to the history's bigint.
func tokenValue(token uint64) (int64, error) {
	if token > math.MaxInt64 {
		return 0, fmt.Errorf("fencing token %d does not fit the history's bigint", token)
	}
	return int64(token), nil
}

// insertHistorySQL records an applied step. A row already there (a
// concurrent re-delivery) is left as it is.
const insertHistorySQL = `INSERT INTO hotswap.schema_history (execution_id, step_id, migration_id, migration_name,
	direction, checksum, fencing_token, duration_ms, applied_by)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`

// recordStep records an applied step on q, the step's transaction when it
// has one: the fingerprints of the tables it touched, read from the
// catalog by the statement that writes them (insertTouchedSQL), then the
// step's history row, in one round trip. The duration recorded runs from
// started to the write. The whole schema's record follows the commit, in
// the step's tail (tail.go).
func recordStep(ctx context.Context, q session, req dialect.StepRequest, p scriptPlan, started time.Time) error {
	b := &pipeline{}
	if err := queueRecord(b, req, p, started); err != nil {
		return err
	}
	return b.run(ctx, q)
}

// queueRecord queues on b the writes of recordStep.
func queueRecord(b *pipeline, req dialect.StepRequest, p scriptPlan, started time.Time) error {
	token, err := tokenValue(req.FencingToken)
	if err != nil {
		return err
	}
	if touched := touchedTables(p); len(touched) > 0 {
		b.queue(wrapf("record the fingerprints of %s", strings.Join(touched, ", ")), insertTouchedSQL, touched, req.ExecutionID, req.StepID)
	}
	b.queue(wrapf("record step %s in history", req.StepID), insertHistorySQL, req.ExecutionID, req.StepID, req.MigrationID,
		req.MigrationName, string(req.Direction), req.Checksum, token, milliseconds(time.Since(started)), req.AppliedBy)
	return nil
}

// pipeline is a batch of statements sent in one round trip, each with what
// its error becomes.
type pipeline struct {
	batch pgx.Batch
	wrap  []func(error) error
}

// queue adds a statement to the batch.
func (s *pipeline) queue(wrap func(error) error, sql string, args ...any) {
	s.batch.Queue(sql, args...)
	s.wrap = append(s.wrap, wrap)
}

// run sends the batch on q and returns the first statement's error, wrapped.
func (s *pipeline) run(ctx context.Context, q session) error {
	br := q.SendBatch(ctx, &s.batch)
	defer br.Close()
	for _, wrap := range s.wrap {
		if _, err := br.Exec(); err != nil {
			return wrap(err)
		}
	}
	return br.Close()
}

// wrapf returns a wrapper that prefixes an error with a description.
func wrapf(format string, args ...any) func(error) error {
	what := fmt.Sprintf(format, args...)
	return func(err error) error { return fmt.Errorf("%s: %w", what, err) }
}

// startedIndex is the statement_index of the row that says a delivery of
// the step has started running it (statement indexes count from 0).
const startedIndex = -1

// markStarted records that a delivery of the step starts running it, and
// reports whether an earlier delivery had already started it.
func markStarted(ctx context.Context, q execQuerier, executionID, stepID string) (earlier bool, err error) {
	const sql = `INSERT INTO hotswap.step_progress (execution_id, step_id, statement_index)
		VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`
	tag, err := q.Exec(ctx, sql, executionID, stepID, startedIndex)
	if err != nil {
		return false, fmt.Errorf("mark step %s started: %w", stepID, err)
	}
	return tag.RowsAffected() == 0, nil
}

// loadProgress returns the statement indexes already done for a step.
func loadProgress(ctx context.Context, q querier, executionID, stepID string) (map[int]bool, error) {
	const sql = `SELECT statement_index FROM hotswap.step_progress
		WHERE execution_id = $1 AND step_id = $2 AND statement_index >= 0`
	rows, err := q.Query(ctx, sql, executionID, stepID)
	if err != nil {
		return nil, fmt.Errorf("read step progress: %w", err)
	}
	done, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("read step progress: %w", err)
	}
	out := make(map[int]bool, len(done))
	for _, i := range done {
		out[int(i)] = true
	}
	return out, nil
}

// recordProgress marks statement index of a step as done.
func recordProgress(ctx context.Context, q execQuerier, executionID, stepID string, index int) error {
	const sql = `INSERT INTO hotswap.step_progress (execution_id, step_id, statement_index)
		VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`
	if _, err := q.Exec(ctx, sql, executionID, stepID, index); err != nil {
		return fmt.Errorf("record progress of statement %d: %w", index+1, err)
	}
	return nil
}

// History returns the instance's history rows, oldest first. It never
// creates the history tables: an instance without them has no history.
func (c *Conn) History(ctx context.Context) ([]dialect.HistoryRow, error) {
	rows, err := c.history(ctx)
	if err != nil {
		return nil, c.scrub(fmt.Errorf("history of %s: %w", c.target, err))
	}
	return rows, nil
}

// history reads the history rows on one pooled session.
func (c *Conn) history(ctx context.Context) ([]dialect.HistoryRow, error) {
	conn, err := c.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", dialect.ErrUnreachable, err)
	}
	defer conn.Release()
	if ok, err := historyExists(ctx, conn); err != nil || !ok {
		return []dialect.HistoryRow{}, err
	}
	const sql = `SELECT execution_id, step_id, migration_id, migration_name, direction, checksum,
		fencing_token, applied_at, duration_ms, applied_by
		FROM hotswap.schema_history ORDER BY applied_at, execution_id, step_id`
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanHistoryRow)
}

// scanHistoryRow reads one row of the history.
func scanHistoryRow(row pgx.CollectableRow) (dialect.HistoryRow, error) {
	var h dialect.HistoryRow
	var direction string
	var token int64
	err := row.Scan(&h.ExecutionID, &h.StepID, &h.MigrationID, &h.MigrationName, &direction,
		&h.Checksum, &token, &h.AppliedAt, &h.DurationMs, &h.AppliedBy)
	h.Direction = domain.Direction(direction)
	h.FencingToken = uint64(max(token, 0))
	h.AppliedAt = h.AppliedAt.UTC()
	return h, err
}

// milliseconds is d in fractional milliseconds.
func milliseconds(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
