package sqlserver

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// The history tables live in a schema of their own, hotswap, inside the
// target database itself: each database of a server has its own history,
// so fencing tokens are compared per database with no column to say which.
// A transactional script writes its history row in its own transaction
// (design invariant 2); a stepwise one records each batch in
// step_progress as it completes (in the batch's transaction when the batch
// has one) and writes the history row once they all have. step_intent
// holds a row for each non-transactional batch a delivery started,
// written before it runs.
const (
	historySchemaSQL = agentTag + `IF SCHEMA_ID(N'hotswap') IS NULL EXEC(N'CREATE SCHEMA hotswap')`
	historyTableSQL  = agentTag + `IF OBJECT_ID(N'hotswap.schema_history', N'U') IS NULL CREATE TABLE hotswap.schema_history (
	execution_id   nvarchar(191) NOT NULL,
	step_id        nvarchar(191) NOT NULL,
	migration_id   nvarchar(191) NOT NULL,
	migration_name nvarchar(512) NOT NULL,
	direction      nvarchar(16) NOT NULL,
	checksum       char(64) NOT NULL,
	fencing_token  bigint NOT NULL,
	applied_at     datetime2(6) NOT NULL CONSTRAINT df_schema_history_applied_at DEFAULT SYSUTCDATETIME(),
	duration_ms    float NOT NULL,
	applied_by     nvarchar(255) NOT NULL,
	CONSTRAINT pk_schema_history PRIMARY KEY (execution_id, step_id))`
	progressTableSQL = agentTag + `IF OBJECT_ID(N'hotswap.step_progress', N'U') IS NULL CREATE TABLE hotswap.step_progress (
	execution_id    nvarchar(191) NOT NULL,
	step_id         nvarchar(191) NOT NULL,
	statement_index int NOT NULL,
	completed_at    datetime2(6) NOT NULL CONSTRAINT df_step_progress_completed_at DEFAULT SYSUTCDATETIME(),
	CONSTRAINT pk_step_progress PRIMARY KEY (execution_id, step_id, statement_index))`
	intentTableSQL = agentTag + `IF OBJECT_ID(N'hotswap.step_intent', N'U') IS NULL CREATE TABLE hotswap.step_intent (
	execution_id    nvarchar(191) NOT NULL,
	step_id         nvarchar(191) NOT NULL,
	statement_index int NOT NULL,
	started_at      datetime2(6) NOT NULL CONSTRAINT df_step_intent_started_at DEFAULT SYSUTCDATETIME(),
	CONSTRAINT pk_step_intent PRIMARY KEY (execution_id, step_id, statement_index))`
	historyExistsSQL = agentTag + `SELECT CASE WHEN OBJECT_ID(N'hotswap.schema_history', N'U') IS NOT NULL
	AND OBJECT_ID(N'hotswap.step_progress', N'U') IS NOT NULL AND OBJECT_ID(N'hotswap.step_intent', N'U') IS NOT NULL
	THEN 1 ELSE 0 END`
	// readStepHistorySQL takes update and range locks on the history it
	// reads, held to the end of the transaction: two deliveries of one step
	// in transactions of their own run one after the other, and the second
	// finds the first's row.
	readStepHistorySQL = agentTag + `SELECT COALESCE(MAX(fencing_token), 0),
	COALESCE(MAX(CASE WHEN execution_id = @p1 AND step_id = @p2 THEN 1 ELSE 0 END), 0)
	FROM hotswap.schema_history WITH (UPDLOCK, HOLDLOCK)`
	insertHistorySQL = agentTag + `INSERT INTO hotswap.schema_history (execution_id, step_id, migration_id, migration_name,
	direction, checksum, fencing_token, duration_ms, applied_by) VALUES (@p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p9)`
	historyRowsSQL = agentTag + `SELECT execution_id, step_id, migration_id, migration_name, direction, checksum,
	fencing_token, applied_at, duration_ms, applied_by FROM hotswap.schema_history ORDER BY applied_at, execution_id, step_id`
)

// historyState remembers, for one Conn, that the history tables exist.
type historyState struct {
	mu    sync.Mutex
	ready bool
}

// ensureHistory creates the history schema and tables on first use.
func (c *Conn) ensureHistory(ctx context.Context, q execer) error {
	c.hist.mu.Lock()
	defer c.hist.mu.Unlock()
	if c.hist.ready {
		return nil
	}
	ok, err := historyExists(ctx, q)
	if err == nil && !ok {
		for _, stmt := range []string{historySchemaSQL, historyTableSQL, progressTableSQL, intentTableSQL} {
			if _, err = q.ExecContext(ctx, stmt); err != nil {
				break
			}
		}
	}
	if err != nil {
		return fmt.Errorf("create history tables: %w", err)
	}
	c.hist.ready = true
	return nil
}

// historyExists reports whether every history table exists.
func historyExists(ctx context.Context, q queryer) (bool, error) {
	var n int
	if err := q.QueryRowContext(ctx, historyExistsSQL).Scan(&n); err != nil {
		return false, fmt.Errorf("look up history tables: %w", err)
	}
	return n == 1, nil
}

// errAlreadyApplied says the step is in the history: a re-delivery.
var errAlreadyApplied = dialect.ErrAlreadyApplied

// stepHistory is what the history says about one step.
type stepHistory struct {
	maxToken int64
	applied  bool
}

// readStepHistory reads the fencing high-water mark and the step's row.
func readStepHistory(ctx context.Context, q queryer, executionID, stepID string) (stepHistory, error) {
	var h stepHistory
	var applied int
	if err := q.QueryRowContext(ctx, readStepHistorySQL, executionID, stepID).Scan(&h.maxToken, &applied); err != nil {
		return stepHistory{}, fmt.Errorf("read history: %w", err)
	}
	h.applied = applied == 1
	return h, nil
}

// checkStep refuses a stale fencing token and recognises a re-delivery.
func checkStep(ctx context.Context, q queryer, req dialect.StepRequest) error {
	h, err := readStepHistory(ctx, q, req.ExecutionID, req.StepID)
	if err != nil {
		return err
	}
	if int64(req.FencingToken) < h.maxToken {
		return fmt.Errorf("%w: step %s carries fencing token %d, the database has recorded token %d",
			dialect.ErrStaleToken, req.StepID, req.FencingToken, h.maxToken)
	}
	if h.applied {
		return errAlreadyApplied
	}
	return nil
}

// insertHistory records an applied step.
func insertHistory(ctx context.Context, q execer, req dialect.StepRequest, took time.Duration) error {
	_, err := q.ExecContext(ctx, insertHistorySQL, req.ExecutionID, req.StepID, req.MigrationID, req.MigrationName,
		string(req.Direction), req.Checksum, int64(req.FencingToken), milliseconds(took), req.AppliedBy)
	if err != nil {
		return fmt.Errorf("record step %s in history: %w", req.StepID, err)
	}
	return nil
}

// loadIndexes reads the batch indexes of a step from one bookkeeping table
// (a constant of this file, never user input).
func loadIndexes(ctx context.Context, q queryer, table, executionID, stepID string) (map[int]bool, error) {
	stmt := agentTag + "SELECT statement_index FROM hotswap." + table + " WHERE execution_id = @p1 AND step_id = @p2"
	rows, err := q.QueryContext(ctx, stmt, executionID, stepID)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	found := map[int]bool{}
	for rows.Next() {
		var i int
		if err := rows.Scan(&i); err != nil {
			return nil, fmt.Errorf("read %s: %w", table, err)
		}
		found[i] = true
	}
	return found, rows.Err()
}

// recordIndex marks batch index of a step in one bookkeeping table; a row
// already there is kept.
func recordIndex(ctx context.Context, q execer, table, executionID, stepID string, index int) error {
	stmt := agentTag + "IF NOT EXISTS (SELECT 1 FROM hotswap." + table + " WHERE execution_id = @p1 AND step_id = @p2 AND statement_index = @p3) " +
		"INSERT INTO hotswap." + table + " (execution_id, step_id, statement_index) VALUES (@p1, @p2, @p3)"
	if _, err := q.ExecContext(ctx, stmt, executionID, stepID, index); err != nil {
		return fmt.Errorf("record batch %d in %s: %w", index+1, table, err)
	}
	return nil
}

// History returns the database's history rows, oldest first. It never
// creates the history tables.
func (c *Conn) History(ctx context.Context) ([]dialect.HistoryRow, error) {
	rows, err := c.history(ctx)
	if err != nil {
		return nil, c.scrub(fmt.Errorf("history of %s: %w", c.target, err))
	}
	return rows, nil
}

// history reads the history rows.
func (c *Conn) history(ctx context.Context) ([]dialect.HistoryRow, error) {
	if ok, err := historyExists(ctx, c.db); err != nil || !ok {
		return []dialect.HistoryRow{}, err
	}
	rows, err := c.db.QueryContext(ctx, historyRowsSQL)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []dialect.HistoryRow{}
	for rows.Next() {
		var h dialect.HistoryRow
		var direction string
		var token int64
		err := rows.Scan(&h.ExecutionID, &h.StepID, &h.MigrationID, &h.MigrationName, &direction,
			&h.Checksum, &token, &h.AppliedAt, &h.DurationMs, &h.AppliedBy)
		if err != nil {
			return nil, err
		}
		h.Direction, h.AppliedAt, h.FencingToken = domain.Direction(direction), h.AppliedAt.UTC(), uint64(token)
		out = append(out, h)
	}
	return out, rows.Err()
}

// milliseconds is d in fractional milliseconds.
func milliseconds(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
