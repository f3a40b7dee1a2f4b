package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// The history tables live in a schema of their own, `hotswap`, on the
// instance; each row names the schema (the DSN's database) the step ran
// on, and fencing tokens are compared per schema, since several databases
// of the control plane, each with its own execution lock, may share one
// server. DDL is not transactional here: a step's statements are
// recorded one by one in step_progress as they complete, and its history
// row is written once they all have (design invariant 2).
const (
	historySchemaSQL = "CREATE DATABASE IF NOT EXISTS `hotswap`"
	historyTableSQL  = "CREATE TABLE IF NOT EXISTS `hotswap`.`schema_history` (" + `
	execution_id   varchar(191) NOT NULL,
	step_id        varchar(191) NOT NULL,
	migration_id   varchar(191) NOT NULL,
	migration_name varchar(512) NOT NULL,
	direction      varchar(16) NOT NULL,
	checksum       char(64) NOT NULL,
	fencing_token  bigint unsigned NOT NULL,
	applied_at     datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	duration_ms    double NOT NULL,
	applied_by     varchar(255) NOT NULL,
	target_schema  varchar(64) NOT NULL DEFAULT '',
	PRIMARY KEY (execution_id, step_id),
	KEY fencing (target_schema, fencing_token)) ENGINE=InnoDB`
	progressTableSQL = "CREATE TABLE IF NOT EXISTS `hotswap`.`step_progress` (" + `
	execution_id    varchar(191) NOT NULL,
	step_id         varchar(191) NOT NULL,
	statement_index int NOT NULL,
	completed_at    datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	PRIMARY KEY (execution_id, step_id, statement_index)) ENGINE=InnoDB`
	// step_intent holds a row for each statement a delivery started, written
	// before it runs: a re-delivered step whose statement fails because its
	// effect is already there knows the earlier delivery ran it and stopped
	// before recording it in step_progress.
	intentTableSQL = "CREATE TABLE IF NOT EXISTS `hotswap`.`step_intent` (" + `
	execution_id    varchar(191) NOT NULL,
	step_id         varchar(191) NOT NULL,
	statement_index int NOT NULL,
	started_at      datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
	PRIMARY KEY (execution_id, step_id, statement_index)) ENGINE=InnoDB`
	historyExistsSQL = `SELECT count(*) = 3 FROM information_schema.TABLES
	WHERE TABLE_SCHEMA = 'hotswap' AND TABLE_NAME IN ('schema_history', 'step_progress', 'step_intent')`
)

// historyState remembers, for one Conn, that the history tables exist.
type historyState struct {
	mu    sync.Mutex
	ready bool
}

// execer is a session that runs commands and queries.
type execer interface {
	queryer
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// ensureHistory creates the history schema and tables on first use, on
// the step's session (so a replica's copy is made with the session's
// sql_log_bin), waiting at most 2 s for metadata locks.
func (c *Conn) ensureHistory(ctx context.Context, q execer) error {
	c.hist.mu.Lock()
	defer c.hist.mu.Unlock()
	if c.hist.ready {
		return nil
	}
	ok, err := historyExists(ctx, q)
	if err == nil && !ok {
		for _, stmt := range []string{"SET SESSION lock_wait_timeout = 2", historySchemaSQL, historyTableSQL, progressTableSQL, intentTableSQL} {
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
	var ok bool
	if err := q.QueryRowContext(ctx, historyExistsSQL).Scan(&ok); err != nil {
		return false, fmt.Errorf("look up history tables: %w", err)
	}
	return ok, nil
}

// errAlreadyApplied says the step is in the history: a re-delivery.
var errAlreadyApplied = dialect.ErrAlreadyApplied

// stepHistory is what the history says about one step.
type stepHistory struct {
	maxToken uint64
	applied  bool
}

// readStepHistory reads the fencing high-water mark and the step's row.
func readStepHistory(ctx context.Context, q queryer, schema, executionID, stepID string) (stepHistory, error) {
	const stmt = "SELECT COALESCE(MAX(CASE WHEN target_schema = ? THEN fencing_token END), 0), " +
		"COALESCE(MAX(execution_id = ? AND step_id = ?), 0) FROM `hotswap`.`schema_history`"
	var h stepHistory
	if err := q.QueryRowContext(ctx, stmt, schema, executionID, stepID).Scan(&h.maxToken, &h.applied); err != nil {
		return stepHistory{}, fmt.Errorf("read history: %w", err)
	}
	return h, nil
}

// checkStep refuses a stale fencing token and recognises a re-delivery.
func checkStep(ctx context.Context, q queryer, schema string, req dialect.StepRequest) error {
	h, err := readStepHistory(ctx, q, schema, req.ExecutionID, req.StepID)
	if err != nil {
		return err
	}
	if req.FencingToken < h.maxToken {
		return fmt.Errorf("%w: step %s carries fencing token %d, the instance has recorded token %d",
			dialect.ErrStaleToken, req.StepID, req.FencingToken, h.maxToken)
	}
	if h.applied {
		return errAlreadyApplied
	}
	return nil
}

// insertHistory records an applied step; a row already there is kept.
func insertHistory(ctx context.Context, q execer, schema string, req dialect.StepRequest, took time.Duration) error {
	const stmt = "INSERT IGNORE INTO `hotswap`.`schema_history` (execution_id, step_id, migration_id, migration_name, " +
		"direction, checksum, fencing_token, duration_ms, applied_by, target_schema) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	_, err := q.ExecContext(ctx, stmt, req.ExecutionID, req.StepID, req.MigrationID, req.MigrationName,
		string(req.Direction), req.Checksum, req.FencingToken, milliseconds(took), req.AppliedBy, schema)
	if err != nil {
		return fmt.Errorf("record step %s in history: %w", req.StepID, err)
	}
	return nil
}

// loadProgress returns the statement indexes already done for a step.
func loadProgress(ctx context.Context, q queryer, executionID, stepID string) (map[int]bool, error) {
	return loadIndexes(ctx, q, "step_progress", executionID, stepID)
}

// loadIntents returns the statement indexes an earlier delivery of a step
// started.
func loadIntents(ctx context.Context, q queryer, executionID, stepID string) (map[int]bool, error) {
	return loadIndexes(ctx, q, "step_intent", executionID, stepID)
}

// recordIntent marks statement index of a step as started, before it runs.
func recordIntent(ctx context.Context, q execer, executionID, stepID string, index int) error {
	const stmt = "INSERT IGNORE INTO `hotswap`.`step_intent` (execution_id, step_id, statement_index) VALUES (?, ?, ?)"
	if _, err := q.ExecContext(ctx, stmt, executionID, stepID, index); err != nil {
		return fmt.Errorf("record the start of statement %d: %w", index+1, err)
	}
	return nil
}

// loadIndexes reads the statement indexes of a step from one bookkeeping
// table (a constant of this file, never user input).
func loadIndexes(ctx context.Context, q queryer, table, executionID, stepID string) (map[int]bool, error) {
	stmt := "SELECT statement_index FROM `hotswap`.`" + table + "` WHERE execution_id = ? AND step_id = ?"
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

// recordProgress marks statement index of a step as done.
func recordProgress(ctx context.Context, q execer, executionID, stepID string, index int) error {
	const stmt = "INSERT IGNORE INTO `hotswap`.`step_progress` (execution_id, step_id, statement_index) VALUES (?, ?, ?)"
	if _, err := q.ExecContext(ctx, stmt, executionID, stepID, index); err != nil {
		return fmt.Errorf("record progress of statement %d: %w", index+1, err)
	}
	return nil
}

// History returns the instance's history rows, oldest first. It never
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
	const stmt = "SELECT execution_id, step_id, migration_id, migration_name, direction, checksum, " +
		"fencing_token, applied_at, duration_ms, applied_by FROM `hotswap`.`schema_history` ORDER BY applied_at, execution_id, step_id"
	rows, err := c.db.QueryContext(ctx, stmt)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []dialect.HistoryRow{}
	for rows.Next() {
		var h dialect.HistoryRow
		var direction string
		err := rows.Scan(&h.ExecutionID, &h.StepID, &h.MigrationID, &h.MigrationName, &direction,
			&h.Checksum, &h.FencingToken, &h.AppliedAt, &h.DurationMs, &h.AppliedBy)
		if err != nil {
			return nil, err
		}
		h.Direction, h.AppliedAt = domain.Direction(direction), h.AppliedAt.UTC()
		out = append(out, h)
	}
	return out, rows.Err()
}

// milliseconds is d in fractional milliseconds.
func milliseconds(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
