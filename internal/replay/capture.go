package replay

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	pgquery "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
)

// ownPrefix starts every statement HotSwap's agent sends, replays included.
const ownPrefix = "/* hotswap-agent"

// captureQuery lists the current database's statements, most called first.
// It starts with ownPrefix, so it leaves itself out.
const captureQuery = `/* hotswap-agent capture */
SELECT query FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND query NOT LIKE '/* hotswap-agent%'
ORDER BY calls DESC`

// errBadLimit is returned for a capture limit below 1.
var errBadLimit = errors.New("capture limit must be at least 1")

// Capture takes the recent workload of the database pool is connected to
// from pg_stat_statements: up to limit statements, the most called first,
// each once. It keeps only statements that replay as they are:
//
//   - reads (CheckReadOnly), not sent by HotSwap's agent (text starting
//     with "/* hotswap-agent");
//   - reading at least one table by name, and none of pg_catalog or
//     information_schema (health checks, SHOW and catalog queries are
//     noise for a schema change);
//   - without parameters. pg_stat_statements replaces every constant with
//     $1..$n and keeps no values, so a statement such as
//     "SELECT * FROM t WHERE id = $1" cannot be replayed and is left out
//     (counted in Skipped). This leaves out most point queries of a typical
//     application: prefer CaptureLog, or a workload file, when the workload
//     is mostly parameterised.
//
// The extension must be loaded (shared_preload_libraries) and created in
// the database.
func Capture(ctx context.Context, pool *pgxpool.Pool, limit int) (Workload, error) {
	if limit < 1 {
		return Workload{}, fmt.Errorf("capture from pg_stat_statements: %w", errBadLimit)
	}
	rows, err := pool.Query(ctx, captureQuery)
	if err != nil {
		return Workload{}, fmt.Errorf("capture from pg_stat_statements (it needs shared_preload_libraries = 'pg_stat_statements' and CREATE EXTENSION pg_stat_statements): %w", err)
	}
	defer rows.Close()
	c := newCollector(limit)
	for !c.full() && rows.Next() {
		var q string
		if err := rows.Scan(&q); err != nil {
			return Workload{}, fmt.Errorf("capture from pg_stat_statements: read row: %w", err)
		}
		c.offer(q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Workload{}, fmt.Errorf("capture from pg_stat_statements: %w", err)
	}
	return c.w, nil
}

// collector keeps the distinct replayable statements offered, up to a limit.
type collector struct {
	limit int
	seen  map[string]bool
	w     Workload
}

// newCollector returns a collector keeping up to limit statements.
func newCollector(limit int) *collector {
	return &collector{limit: limit, seen: make(map[string]bool)}
}

// full reports whether the collector has its limit.
func (c *collector) full() bool { return len(c.w.Statements) >= c.limit }

// offer keeps stmt when it is replayable and new, counts it as skipped when
// it is not replayable.
func (c *collector) offer(stmt string) {
	stmt = strings.TrimSpace(stmt)
	switch {
	case c.seen[stmt]:
	case !replayable(stmt):
		c.w.Skipped++
	default:
		c.seen[stmt] = true
		c.w.Statements = append(c.w.Statements, stmt)
	}
}

// replayable reports whether a captured statement can be replayed as it is
// and is worth it: a read, not HotSwap's own, without parameters, reading
// user tables and no catalog.
func replayable(stmt string) bool {
	if strings.HasPrefix(stmt, ownPrefix) || CheckReadOnly(stmt) != nil {
		return false
	}
	s, err := shapeOf(stmt)
	return err == nil && !s.params && !s.catalog && s.tables > 0
}

// shape is what a capture needs to know of a statement.
type shape struct {
	params  bool // it has $n parameters
	catalog bool // it reads a pg_catalog or information_schema relation
	tables  int  // relations it reads by name outside the catalog
}

// shapeOf inspects stmt's parse tree.
func shapeOf(stmt string) (shape, error) {
	tree, err := pgquery.Parse(stmt)
	if err != nil {
		return shape{}, fmt.Errorf("parse statement: %w", err)
	}
	var s shape
	inspect(tree, func(m proto.Message) bool {
		switch n := m.(type) {
		case *pgquery.ParamRef:
			s.params = true
		case *pgquery.RangeVar:
			if catalogRelation(n) {
				s.catalog = true
			} else {
				s.tables++
			}
		}
		return true
	})
	return s, nil
}

// catalogRelation reports whether a relation belongs to the system catalog.
func catalogRelation(r *pgquery.RangeVar) bool {
	switch strings.ToLower(r.GetSchemaname()) {
	case "pg_catalog", "information_schema":
		return true
	case "":
		return strings.HasPrefix(strings.ToLower(r.GetRelname()), "pg_")
	}
	return false
}
