package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/replay"
)

const (
	// replayClientGrace is how long the client waits past the server-side
	// statement_timeout before it gives up on a replayed statement itself.
	replayClientGrace = 5 * time.Second
	// Source names of a captured workload.
	sourceStatementLog = "the statement log"
	sourceStatements   = "pg_stat_statements"
	// maxCaptureRows bounds the pg_stat_statements rows a capture reads.
	maxCaptureRows = 5000
)

// captureQuery lists the current database's statements, most called first.
// It starts with the agent's tag, so it leaves itself out.
const captureQuery = `/* hotswap-agent capture */
SELECT query, calls FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND query NOT LIKE '/* hotswap-agent%'
ORDER BY calls DESC`

// CaptureWorkload takes the instance's recent read workload, following
// dialect.WorkloadCapturer: from req.StatementLog when it is set and yields
// statements (replay.CaptureLog: a log written with
// log_min_duration_statement = 0), else from pg_stat_statements (Capture).
func (c *Conn) CaptureWorkload(ctx context.Context, req dialect.CaptureRequest) (dialect.CapturedWorkload, error) {
	if req.StatementLog != "" {
		w, err := replay.CaptureLog(req.StatementLog, req.Since, req.Limit)
		if err == nil && len(w.Statements) > 0 {
			return dialect.CapturedWorkload{Workload: w, Source: sourceStatementLog}, nil
		}
	}
	w, err := Capture(ctx, c.pool, req.Limit)
	if err != nil {
		return dialect.CapturedWorkload{}, c.scrub(err)
	}
	return dialect.CapturedWorkload{Workload: w, Source: sourceStatements}, nil
}

// Capture takes the recent workload of the database pool is connected to
// from pg_stat_statements: up to limit statements, the most called first,
// each once, kept on replay.Collector's terms. pg_stat_statements replaces
// every constant with $1..$n and keeps no values: a statement whose every
// $n is compared with a column of its one table ("SELECT * FROM t WHERE
// id = $1") gets values sampled from a row of that table (counted in
// Sampled); any other parameterised statement cannot be replayed and is
// left out (counted in Skipped). The statement log, or a workload file,
// replays the application's real values.
//
// The extension must be loaded (shared_preload_libraries) and created in
// the database.
func Capture(ctx context.Context, pool *pgxpool.Pool, limit int) (replay.Workload, error) {
	col, err := replay.NewCollector(replay.PostgreSQL, limit)
	if err != nil {
		return replay.Workload{}, fmt.Errorf("capture from pg_stat_statements: %w", err)
	}
	rows, err := pool.Query(ctx, captureQuery)
	if err != nil {
		return replay.Workload{}, fmt.Errorf("capture from pg_stat_statements (it needs shared_preload_libraries = 'pg_stat_statements' and CREATE EXTENSION pg_stat_statements): %w", err)
	}
	defer rows.Close()
	var queries []string
	var calls []int64
	for len(queries) < maxCaptureRows && rows.Next() {
		var q string
		var n int64
		if err := rows.Scan(&q, &n); err != nil {
			return replay.Workload{}, fmt.Errorf("capture from pg_stat_statements: read row: %w", err)
		}
		queries, calls = append(queries, q), append(calls, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return replay.Workload{}, fmt.Errorf("capture from pg_stat_statements: %w", err)
	}
	for i, q := range queries {
		before := len(col.Workload().Statements)
		if !col.Full() {
			if bound, ok := sampleParams(ctx, pool, q); ok {
				col.OfferSampled(bound)
			} else {
				col.Offer(q)
			}
		}
		col.Count(calls[i], len(col.Workload().Statements) > before)
	}
	return col.Workload(), nil
}

// sampleParams gives a normalised statement's parameters real values: for
// a statement whose every $n is compared with a column of its one table
// (replay.Bind), one row sampled from that table. ok is false when it
// cannot be bound or the table yields no row without NULLs.
func sampleParams(ctx context.Context, pool *pgxpool.Pool, stmt string) (string, bool) {
	if !strings.Contains(stmt, "$") {
		return "", false
	}
	b, ok := replay.Bind(stmt)
	if !ok {
		return "", false
	}
	nums, cols := b.SortedColumns()
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = pgx.Identifier{c}.Sanitize() + "::text"
	}
	table := pgx.Identifier{b.Table}
	if b.Schema != "" {
		table = pgx.Identifier{b.Schema, b.Table}
	}
	sel := "/* hotswap-agent capture */ SELECT " + strings.Join(quoted, ", ") + " FROM " + table.Sanitize()
	vals := make([]*string, len(cols))
	dest := make([]any, len(cols))
	for i := range vals {
		dest[i] = &vals[i]
	}
	// A random row when the table is big enough for a 1% sample, else the first.
	if err := pool.QueryRow(ctx, sel+" TABLESAMPLE BERNOULLI (1) LIMIT 1").Scan(dest...); err != nil {
		if err := pool.QueryRow(ctx, sel+" LIMIT 1").Scan(dest...); err != nil {
			return "", false
		}
	}
	values := make(map[int]string, len(nums))
	for i, n := range nums {
		if vals[i] == nil {
			return "", false
		}
		values[n] = *vals[i]
	}
	out, err := replay.Substitute(stmt, values)
	return out, err == nil
}

// ReplayWorkload replays w on the instance, following
// dialect.WorkloadReplayer and replay.Run.
func (c *Conn) ReplayWorkload(ctx context.Context, w replay.Workload, opts replay.Options) (replay.Result, error) {
	res, err := replay.Run(ctx, ReplaySession{Pool: c.pool}, w, opts)
	return res, c.scrub(err)
}

// ReplaySession is PostgreSQL's replay.Session on a pool: each statement
// runs in its own READ ONLY transaction, rolled back, with application_name
// replay.ApplicationName and statement_timeout set LOCAL to it (the pool's
// sessions are left as they were).
type ReplaySession struct {
	Pool *pgxpool.Pool
}

var _ replay.Session = ReplaySession{}

// Ping checks that the instance answers.
func (s ReplaySession) Ping(ctx context.Context) error { return s.Pool.Ping(ctx) }

// RunReadOnly runs stmt in a READ ONLY transaction and returns how long the
// statement itself took.
func (s ReplaySession) RunReadOnly(ctx context.Context, stmt string, timeout time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout+replayClientGrace)
	defer cancel()
	tx, err := s.Pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return 0, fmt.Errorf("begin read-only transaction: %w", err)
	}
	defer rollback(ctx, tx)
	setup := fmt.Sprintf("SET LOCAL application_name = '%s'; SET LOCAL statement_timeout = %d",
		replay.ApplicationName, max(timeout.Milliseconds(), 1))
	if _, err := tx.Exec(ctx, setup); err != nil {
		return 0, fmt.Errorf("set up replay transaction: %w", err)
	}
	start := time.Now()
	_, err = tx.Exec(ctx, stmt)
	return time.Since(start), err
}
