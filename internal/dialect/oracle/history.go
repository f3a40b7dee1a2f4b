package oracle

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// HistorySchema is the schema (in Oracle, a user) that holds the history
// tables: HOTSWAP, created once by a DBA as a schema-only account
// (CREATE USER hotswap NO AUTHENTICATION, 18c on), so no one logs in as
// it. The agent's account creates and writes the tables there, which
// takes CREATE ANY TABLE, CREATE ANY INDEX, SELECT ANY TABLE and INSERT
// ANY TABLE, or a DBA creating the tables below and granting SELECT and
// INSERT on them (the preflight's history check says which is missing).
// Each row names the schema the step ran in (CURRENT_SCHEMA), and fencing
// tokens are compared per schema. DDL is not transactional here: a step's
// statements are marked in STEP_INTENT before they run and recorded in
// STEP_PROGRESS as they complete; its history row is written once they
// all have (design invariant 2).
const HistorySchema = "HOTSWAP"

// The history tables. Oracle stores ” as NULL, so the columns that may
// hold an empty string are nullable.
var historyTables = []struct{ name, ddl string }{
	{"SCHEMA_HISTORY", `CREATE TABLE hotswap.schema_history (
	execution_id   VARCHAR2(191) NOT NULL,
	step_id        VARCHAR2(191) NOT NULL,
	migration_id   VARCHAR2(191),
	migration_name VARCHAR2(512),
	direction      VARCHAR2(16),
	checksum       VARCHAR2(64),
	fencing_token  NUMBER(20) NOT NULL,
	applied_at     TIMESTAMP(6) WITH TIME ZONE DEFAULT SYSTIMESTAMP NOT NULL,
	duration_ms    NUMBER NOT NULL,
	applied_by     VARCHAR2(255),
	target_schema  VARCHAR2(128) NOT NULL,
	CONSTRAINT schema_history_pk PRIMARY KEY (execution_id, step_id))`},
	{"STEP_PROGRESS", `CREATE TABLE hotswap.step_progress (
	execution_id    VARCHAR2(191) NOT NULL,
	step_id         VARCHAR2(191) NOT NULL,
	statement_index NUMBER(10) NOT NULL,
	completed_at    TIMESTAMP(6) WITH TIME ZONE DEFAULT SYSTIMESTAMP NOT NULL,
	CONSTRAINT step_progress_pk PRIMARY KEY (execution_id, step_id, statement_index))`},
	{"STEP_INTENT", `CREATE TABLE hotswap.step_intent (
	execution_id    VARCHAR2(191) NOT NULL,
	step_id         VARCHAR2(191) NOT NULL,
	statement_index NUMBER(10) NOT NULL,
	started_at      TIMESTAMP(6) WITH TIME ZONE DEFAULT SYSTIMESTAMP NOT NULL,
	CONSTRAINT step_intent_pk PRIMARY KEY (execution_id, step_id, statement_index))`},
}

// historyTablesSQL lists the history tables that exist.
const historyTablesSQL = `SELECT table_name FROM all_tables WHERE owner = 'HOTSWAP' AND table_name IN ('SCHEMA_HISTORY', 'STEP_PROGRESS', 'STEP_INTENT')`

// historyState remembers, for one Conn, that the history tables exist.
type historyState struct {
	mu    sync.Mutex
	ready bool
}

// ensureHistory creates the missing history tables on first use, on the
// step's session (its ddl_lock_timeout applies). A table another agent
// created meanwhile (ORA-00955) is fine.
func (c *Conn) ensureHistory(ctx context.Context, q execer) error {
	c.hist.mu.Lock()
	defer c.hist.mu.Unlock()
	if c.hist.ready {
		return nil
	}
	have, err := existingHistoryTables(ctx, q)
	if err != nil {
		return err
	}
	for _, t := range historyTables {
		if have[t.name] {
			continue
		}
		_, err := q.ExecContext(ctx, t.ddl)
		if code, _ := oraCode(err); err != nil && code != oraNameUsed {
			return fmt.Errorf("create history table %s.%s: %w%s", HistorySchema, t.name, err, historyHint(err))
		}
	}
	c.hist.ready = true
	return nil
}

// historyHint says what to do when the history schema is missing or the
// account may not create tables in it.
func historyHint(err error) string {
	switch code, _ := oraCode(err); code {
	case oraNoSuchUser:
		return " (as a DBA: CREATE USER hotswap NO AUTHENTICATION QUOTA 64M ON users)"
	case oraInsufficientPriv:
		return " (grant the agent's account CREATE ANY TABLE, CREATE ANY INDEX, SELECT ANY TABLE and INSERT ANY TABLE)"
	}
	return ""
}

// existingHistoryTables returns the history tables that exist.
func existingHistoryTables(ctx context.Context, q queryer) (map[string]bool, error) {
	rows, err := q.QueryContext(ctx, historyTablesSQL)
	if err != nil {
		return nil, fmt.Errorf("look up history tables: %w", err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("look up history tables: %w", err)
		}
		have[name] = true
	}
	return have, rows.Err()
}

// errAlreadyApplied says the step is in the history: a re-delivery.
var errAlreadyApplied = dialect.ErrAlreadyApplied

// stepHistory is what the history says about one step.
type stepHistory struct {
	maxToken uint64
	applied  bool
}

// stepHistorySQL reads the fencing high-water mark of a schema and
// whether a step is recorded.
const stepHistorySQL = `SELECT NVL(MAX(CASE WHEN target_schema = :1 THEN fencing_token END), 0),
	NVL(MAX(CASE WHEN execution_id = :2 AND step_id = :3 THEN 1 ELSE 0 END), 0) FROM hotswap.schema_history`

// readStepHistory reads the fencing high-water mark and the step's row.
func readStepHistory(ctx context.Context, q queryer, schema, executionID, stepID string) (stepHistory, error) {
	var token, applied int64
	if err := q.QueryRowContext(ctx, stepHistorySQL, schema, executionID, stepID).Scan(&token, &applied); err != nil {
		return stepHistory{}, fmt.Errorf("read history: %w", err)
	}
	return stepHistory{maxToken: uint64(token), applied: applied == 1}, nil
}

// checkStep refuses a stale fencing token and recognises a re-delivery.
func checkStep(ctx context.Context, q queryer, schema string, req stepReq) error {
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

// stepReq is the request of the step being run.
type stepReq = dialect.StepRequest

// insertHistorySQL records an applied step.
const insertHistorySQL = `INSERT INTO hotswap.schema_history (execution_id, step_id, migration_id, migration_name,
	direction, checksum, fencing_token, duration_ms, applied_by, target_schema) VALUES (:1, :2, :3, :4, :5, :6, :7, :8, :9, :10)`

// insertHistory records an applied step; a row already there is kept.
// Outside a transaction go-ora commits each statement.
func insertHistory(ctx context.Context, q execer, schema string, req stepReq, took time.Duration) error {
	_, err := q.ExecContext(ctx, insertHistorySQL, req.ExecutionID, req.StepID, req.MigrationID, req.MigrationName,
		string(req.Direction), req.Checksum, int64(req.FencingToken), milliseconds(took), req.AppliedBy, schema)
	if code, _ := oraCode(err); err != nil && code != oraUniqueViolated {
		return fmt.Errorf("record step %s in history: %w", req.StepID, err)
	}
	return nil
}

// The bookkeeping statements of a step's statements.
const (
	recordIntentSQL   = `INSERT INTO hotswap.step_intent (execution_id, step_id, statement_index) VALUES (:1, :2, :3)`
	recordProgressSQL = `INSERT INTO hotswap.step_progress (execution_id, step_id, statement_index) VALUES (:1, :2, :3)`
	loadIntentsSQL    = `SELECT statement_index FROM hotswap.step_intent WHERE execution_id = :1 AND step_id = :2`
	loadProgressSQL   = `SELECT statement_index FROM hotswap.step_progress WHERE execution_id = :1 AND step_id = :2`
)

// recordIndex inserts one statement's row into a bookkeeping table; a row
// already there (an earlier delivery's) is kept.
func recordIndex(ctx context.Context, q execer, stmt, what, executionID, stepID string, index int) error {
	_, err := q.ExecContext(ctx, stmt, executionID, stepID, index)
	if code, _ := oraCode(err); err != nil && code != oraUniqueViolated {
		return fmt.Errorf("record %s of statement %d: %w", what, index+1, err)
	}
	return nil
}

// loadIndexes reads the statement indexes of a step from one bookkeeping
// query.
func loadIndexes(ctx context.Context, q queryer, stmt, executionID, stepID string) (map[int]bool, error) {
	rows, err := q.QueryContext(ctx, stmt, executionID, stepID)
	if err != nil {
		return nil, fmt.Errorf("read step bookkeeping: %w", err)
	}
	defer rows.Close()
	found := map[int]bool{}
	for rows.Next() {
		var i int64
		if err := rows.Scan(&i); err != nil {
			return nil, fmt.Errorf("read step bookkeeping: %w", err)
		}
		found[int(i)] = true
	}
	return found, rows.Err()
}

// historySQL reads the history rows, oldest first.
const historySQL = `SELECT execution_id, step_id, migration_id, migration_name, direction, checksum,
	fencing_token, applied_at, duration_ms, applied_by FROM hotswap.schema_history ORDER BY applied_at, execution_id, step_id`

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
	have, err := existingHistoryTables(ctx, c.db)
	if err != nil || !have["SCHEMA_HISTORY"] {
		return []dialect.HistoryRow{}, err
	}
	rows, err := c.db.QueryContext(ctx, historySQL)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []dialect.HistoryRow{}
	for rows.Next() {
		h, err := scanHistory(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// scanHistory reads one history row.
func scanHistory(rows *sql.Rows) (dialect.HistoryRow, error) {
	var h dialect.HistoryRow
	var migration, name, direction, checksum, by sql.NullString
	var token int64
	err := rows.Scan(&h.ExecutionID, &h.StepID, &migration, &name, &direction, &checksum, &token, &h.AppliedAt, &h.DurationMs, &by)
	if err != nil {
		return h, fmt.Errorf("read history row: %w", err)
	}
	h.MigrationID, h.MigrationName, h.Checksum, h.AppliedBy = migration.String, name.String, checksum.String, by.String
	h.Direction, h.FencingToken, h.AppliedAt = domain.Direction(direction.String), uint64(token), h.AppliedAt.UTC()
	return h, nil
}

// milliseconds is d in fractional milliseconds.
func milliseconds(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
