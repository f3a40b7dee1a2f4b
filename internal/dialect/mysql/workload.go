package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/replay"
	"github.com/hotswap-db/hotswap/internal/replay/mysqlreplay"
)

const (
	// replayClientGrace is how long the client waits past the server-side
	// statement time limit before it gives up on a replayed statement.
	replayClientGrace = 5 * time.Second
	// maxCaptureRows bounds the distinct statements a capture reads.
	maxCaptureRows = 5000
	// Source names of a captured workload.
	sourceHistory = "performance_schema.events_statements_history_long"
	sourceDigests = "performance_schema statement digests (normalised: a statement with literals cannot be replayed; " +
		"turn the events_statements_history_long consumer on for the statements as run)"
)

var (
	_ dialect.WorkloadCapturer = (*Conn)(nil)
	_ dialect.WorkloadReplayer = (*Conn)(nil)
)

// historyConsumerSQL reads whether the server keeps the last statements'
// texts.
const historyConsumerSQL = `SELECT ENABLED FROM performance_schema.setup_consumers
WHERE NAME = 'events_statements_history_long'`

// historyCaptureSQL lists the texts of the statements the server recorded
// last (events_statements_history_long, a ring of the most recent ones,
// 10 000 by default), run in the pool's database by sessions other than
// the agent's, most run first.
var historyCaptureSQL = `SELECT h.SQL_TEXT, COUNT(*) FROM performance_schema.events_statements_history_long h
WHERE h.CURRENT_SCHEMA = DATABASE() AND h.SQL_TEXT NOT LIKE '/* hotswap-agent%'
  AND ` + strings.ReplaceAll(agentDigestFilter, "DIGEST_TEXT", "h.SQL_TEXT") + `
  AND h.THREAD_ID NOT IN (SELECT t.THREAD_ID FROM performance_schema.threads t
    JOIN performance_schema.session_connect_attrs a ON a.PROCESSLIST_ID = t.PROCESSLIST_ID
    WHERE a.ATTR_NAME = 'program_name' AND a.ATTR_VALUE = 'hotswap-agent')
GROUP BY h.SQL_TEXT ORDER BY COUNT(*) DESC LIMIT ` + fmt.Sprint(maxCaptureRows)

// digestCaptureSQL lists the pool's database's statement digests, most
// called first.
var digestCaptureSQL = `SELECT DIGEST_TEXT, COUNT_STAR FROM performance_schema.events_statements_summary_by_digest
WHERE SCHEMA_NAME = DATABASE() AND ` + agentDigestFilter + `
ORDER BY COUNT_STAR DESC LIMIT ` + fmt.Sprint(maxCaptureRows)

// CaptureWorkload takes the instance's recent read workload, following
// dialect.WorkloadCapturer, from performance_schema: the texts of
// events_statements_history_long when that consumer is on (the statements
// as the application sent them, literals included), else the statement
// digests, whose constants are replaced by ? so that only the statements
// without any are kept. Statements are kept on replay.Collector's terms,
// read with mysqlreplay.Grammar; the calls counted are the recorded
// executions of the pool's database's statements, the agent's left out.
//
// req.StatementLog and req.Since are not used: the history is a ring of
// the server's most recent statements, and the slow log is not read (a
// long_query_time = 0 slow log writes every statement to disk on the
// primary, where the history is kept in memory and read with SQL).
// Prepared statements are recorded with their ?, and texts longer than
// performance_schema_max_sql_text_length are cut: both are left out.
func (c *Conn) CaptureWorkload(ctx context.Context, req dialect.CaptureRequest) (dialect.CapturedWorkload, error) {
	on, err := c.historyOn(ctx)
	if err != nil {
		return dialect.CapturedWorkload{}, c.scrub(fmt.Errorf("capture from performance_schema (it needs performance_schema=ON and SELECT on performance_schema.*): %w", err))
	}
	query, source := digestCaptureSQL, sourceDigests
	if on {
		query, source = historyCaptureSQL, sourceHistory
	}
	w, err := c.collect(ctx, query, req.Limit)
	if err != nil {
		return dialect.CapturedWorkload{}, c.scrub(fmt.Errorf("capture from %s: %w", source, err))
	}
	return dialect.CapturedWorkload{Workload: w, Source: source}, nil
}

// historyOn reports whether the events_statements_history_long consumer
// is on.
func (c *Conn) historyOn(ctx context.Context) (bool, error) {
	var enabled string
	err := c.db.QueryRowContext(ctx, historyConsumerSQL).Scan(&enabled)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return enabled == "YES", err
}

// collect offers the statements query lists (text, calls) to a Collector.
func (c *Conn) collect(ctx context.Context, query string, limit int) (replay.Workload, error) {
	col, err := replay.NewCollector(mysqlreplay.Grammar, limit)
	if err != nil {
		return replay.Workload{}, err
	}
	rows, err := c.db.QueryContext(ctx, query)
	if err != nil {
		return replay.Workload{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var text string
		var calls int64
		if err := rows.Scan(&text, &calls); err != nil {
			return replay.Workload{}, fmt.Errorf("read row: %w", err)
		}
		before := len(col.Workload().Statements)
		if !col.Full() {
			col.Offer(text)
		}
		col.Count(calls, len(col.Workload().Statements) > before)
	}
	if err := rows.Err(); err != nil {
		return replay.Workload{}, err
	}
	return col.Workload(), nil
}

// ReplayWorkload replays w on the instance, following
// dialect.WorkloadReplayer and replay.Run, with statements read by
// mysqlreplay.Grammar.
func (c *Conn) ReplayWorkload(ctx context.Context, w replay.Workload, opts replay.Options) (replay.Result, error) {
	var version string
	if err := c.db.QueryRowContext(ctx, "SELECT VERSION()").Scan(&version); err != nil {
		return replay.Result{}, c.scrub(fmt.Errorf("replay: reach database: %w", err))
	}
	opts.Grammar = mysqlreplay.Grammar
	s := ReplaySession{DB: c.db, MariaDB: strings.Contains(version, "MariaDB")}
	res, err := replay.Run(ctx, s, w, opts)
	return res, c.scrub(err)
}

// ReplaySession is MySQL/MariaDB's replay.Session on a pool: each
// statement runs on a session of its own in a START TRANSACTION READ ONLY
// transaction, rolled back, with the server's statement time limit set to
// the timeout (max_statement_time on MariaDB, max_execution_time on
// MySQL) and reset before the session goes back to the pool. The server
// refuses any write to a table in a read-only transaction (error 1792);
// what it lets through (a locking read, GET_LOCK) the grammar refuses
// before.
type ReplaySession struct {
	DB      *sql.DB
	MariaDB bool
}

var _ replay.Session = ReplaySession{}

// Ping checks that the instance answers.
func (s ReplaySession) Ping(ctx context.Context) error { return s.DB.PingContext(ctx) }

// RunReadOnly runs stmt in a read-only transaction, reads every row, and
// returns how long the statement took.
func (s ReplaySession) RunReadOnly(ctx context.Context, stmt string, timeout time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout+replayClientGrace)
	defer cancel()
	conn, err := s.DB.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("take a session: %w", err)
	}
	defer conn.Close()
	limit, reset := s.timeLimit(timeout)
	if _, err := conn.ExecContext(ctx, limit); err != nil {
		return 0, fmt.Errorf("set the statement time limit: %w", err)
	}
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), reset); err != nil {
			// A session left with the limit is not given back to the pool.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	tx, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, fmt.Errorf("start a read-only transaction: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	start := time.Now()
	err = drain(tx.QueryContext(ctx, stmt))
	return time.Since(start), err
}

// timeLimit returns the statements that set and reset the session's
// statement time limit.
func (s ReplaySession) timeLimit(timeout time.Duration) (set, reset string) {
	if s.MariaDB {
		return fmt.Sprintf("SET SESSION max_statement_time = %.3f", max(timeout.Seconds(), 0.001)),
			"SET SESSION max_statement_time = DEFAULT"
	}
	return fmt.Sprintf("SET SESSION max_execution_time = %d", max(timeout.Milliseconds(), 1)),
		"SET SESSION max_execution_time = DEFAULT"
}

// drain reads and discards every row.
func drain(rows *sql.Rows, err error) error {
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}
