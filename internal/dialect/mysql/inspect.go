package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/domain"
)

var _ dialect.Inspector = (*Conn)(nil)

// countLimit is the largest table whose rows Inspect counts instead of
// taking InnoDB's estimate, which is sampled (often off by half) and lags
// recent inserts.
const countLimit = 64 << 20

// Bounds of a look-up: it never waits behind a DDL's metadata lock for
// longer than inspectLockWait, and no statement runs longer than
// inspectStatementTime.
const (
	inspectLockWait      = 2 // seconds
	inspectStatementTime = 10 * time.Second
)

// tablesSQL reads what information_schema knows of one name; the
// comparison's case rules are settled in Go (see resolveTable).
const tablesSQL = `
SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, COALESCE(ENGINE, ''), COALESCE(TABLE_ROWS, -1),
       COALESCE(DATA_LENGTH, 0) + COALESCE(INDEX_LENGTH, 0)
FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`

const columnsSQL = `
SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`

const indexesSQL = `
SELECT INDEX_NAME, NON_UNIQUE, COALESCE(COLUMN_NAME, ''), COALESCE(SUB_PART, 0)
FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX`

const writesSQL = `
SELECT COALESCE(SUM(COUNT_INSERT + COUNT_UPDATE + COUNT_DELETE), 0)
FROM performance_schema.table_io_waits_summary_by_table WHERE OBJECT_SCHEMA = ? AND OBJECT_NAME = ?`

var tableKinds = map[string]string{"BASE TABLE": "table", "SYSTEM VERSIONED": "table", "VIEW": "view",
	"SYSTEM VIEW": "view", "SEQUENCE": "sequence"}

// inspectSession is one bounded session of a look-up and the server's
// rules for names.
type inspectSession struct {
	conn       *sql.Conn
	database   string // the session's database, for unqualified names
	caseFolded bool   // lower_case_table_names != 0: names compare without case
}

// Inspect looks the requested names up in information_schema, in one
// session whose lock_wait_timeout (and max_statement_time on MariaDB,
// max_execution_time on MySQL) keeps it from queueing behind a DDL; see
// dialect.Inspector. An unqualified name is resolved in the connection's
// database. MySQL index names belong to their table, so a name that is
// only an index is reported as not existing: a table's indexes are in its
// Indexes.
func (c *Conn) Inspect(ctx context.Context, req domain.CatalogRequest) (domain.CatalogFacts, error) {
	s, err := c.inspectSession(ctx)
	if err != nil {
		return domain.CatalogFacts{}, c.scrub(fmt.Errorf("inspect the catalog of %s: %w", c.target, err))
	}
	defer s.conn.Close()
	facts := domain.CatalogFacts{FreeDiskBytes: s.freeDisk(ctx)}
	tables := make([]string, len(req.Relations))
	for i, name := range req.Relations {
		rel, table, err := s.relation(ctx, name)
		if err != nil {
			return domain.CatalogFacts{}, c.scrub(fmt.Errorf("inspect %s on %s: %w", name, c.target, err))
		}
		facts.Relations = append(facts.Relations, rel)
		tables[i] = table
	}
	s.writeRates(ctx, facts.Relations, tables, time.Duration(req.WriteWindowMs)*time.Millisecond)
	return facts, nil
}

// inspectSession opens the bounded session and reads the name rules.
func (c *Conn) inspectSession(ctx context.Context) (*inspectSession, error) {
	conn, err := c.session(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("SET SESSION lock_wait_timeout = %d", inspectLockWait)); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("set lock_wait_timeout: %w", err)
	}
	// MariaDB bounds every statement with max_statement_time (seconds),
	// MySQL its SELECTs with max_execution_time (milliseconds).
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("SET SESSION max_statement_time = %d", int(inspectStatementTime.Seconds()))); err != nil {
		_, _ = conn.ExecContext(ctx, fmt.Sprintf("SET SESSION max_execution_time = %d", inspectStatementTime.Milliseconds()))
	}
	// MySQL 8 caches TABLE_ROWS and the sizes for a day by default; MariaDB
	// has no such cache (nor the variable).
	_, _ = conn.ExecContext(ctx, "SET SESSION information_schema_stats_expiry = 0")
	s := &inspectSession{conn: conn}
	var db sql.NullString
	var lcn int
	if err := conn.QueryRowContext(ctx, "SELECT DATABASE(), @@lower_case_table_names").Scan(&db, &lcn); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("read the session's database: %w", err)
	}
	s.database, s.caseFolded = db.String, lcn != 0
	return s, nil
}

// relation reads one name and returns the table's name as the server
// stores it; a name that resolves to no table or view is reported as not
// existing.
func (s *inspectSession) relation(ctx context.Context, name domain.ObjectName) (domain.RelationFacts, string, error) {
	rel := domain.RelationFacts{ObjectName: name, WritesPerSecond: domain.UnknownSize}
	schema := name.Schema
	if schema == "" {
		schema = s.database
	}
	if schema == "" {
		return rel, "", nil
	}
	table, typ, err := s.resolveTable(ctx, schema, name.Name, &rel)
	if err != nil || table == "" {
		return rel, "", err
	}
	rel.Exists, rel.Kind = true, tableKinds[typ]
	if rel.Kind == "" {
		rel.Kind = strings.ToLower(typ)
	}
	if rel.Kind != "table" {
		return rel, table, nil
	}
	if err := s.countSmall(ctx, &rel, table); err != nil {
		return rel, table, err
	}
	return rel, table, s.tableDetails(ctx, &rel, table)
}

// resolveTable finds schema.name by the server's rules: exact case when
// lower_case_table_names is 0 (file names tell case apart), any case
// otherwise. It fills the resolved schema, the row estimate and size, and
// returns the name as stored ("" when none matches) and its TABLE_TYPE.
func (s *inspectSession) resolveTable(ctx context.Context, schema, name string, rel *domain.RelationFacts) (string, string, error) {
	rows, err := s.conn.QueryContext(ctx, tablesSQL, schema, name)
	if err != nil {
		return "", "", fmt.Errorf("tables: %w", err)
	}
	defer rows.Close()
	table, typ := "", ""
	for rows.Next() {
		var gotSchema, gotName, gotType, engine string
		var rowsEst, bytes int64
		if err := rows.Scan(&gotSchema, &gotName, &gotType, &engine, &rowsEst, &bytes); err != nil {
			return "", "", fmt.Errorf("tables: %w", err)
		}
		exact := gotSchema == schema && gotName == name
		if !exact && (table != "" || !s.caseFolded) {
			continue
		}
		table, typ = gotName, gotType
		rel.ResolvedSchema, rel.Rows, rel.Bytes = gotSchema, rowsEst, bytes
		if exact {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return "", "", fmt.Errorf("tables: %w", err)
	}
	return table, typ, nil
}

// countSmall replaces InnoDB's estimate by an exact count for a table
// small enough to count quickly. A count that would wait for a metadata
// lock gives up after lock_wait_timeout and keeps the estimate.
func (s *inspectSession) countSmall(ctx context.Context, rel *domain.RelationFacts, table string) error {
	if rel.Bytes > countLimit && rel.Rows >= 0 {
		return nil
	}
	if rel.Bytes > countLimit {
		rel.Rows = rel.Bytes / 100 // no estimate and too large to count: about 100 bytes a row
		return nil
	}
	q := "SELECT COUNT(*) FROM " + quoteIdent(rel.ResolvedSchema) + "." + quoteIdent(table)
	var n int64
	err := s.conn.QueryRowContext(ctx, q).Scan(&n)
	switch {
	case isLockTimeout(err):
		return nil // a DDL holds the table: keep the estimate rather than wait
	case err != nil:
		return fmt.Errorf("count rows: %w", err)
	}
	rel.Rows = n
	return nil
}

// tableDetails reads a table's columns (COLUMN_TYPE: ENUM lists and
// lengths included, keyed in lower case as MySQL compares column names)
// and its indexes with their key columns in order.
func (s *inspectSession) tableDetails(ctx context.Context, rel *domain.RelationFacts, table string) error {
	rows, err := s.conn.QueryContext(ctx, columnsSQL, rel.ResolvedSchema, table)
	if err != nil {
		return fmt.Errorf("columns: %w", err)
	}
	defer rows.Close()
	rel.Columns = map[string]string{}
	for rows.Next() {
		var col, typ string
		if err := rows.Scan(&col, &typ); err != nil {
			return fmt.Errorf("columns: %w", err)
		}
		rel.Columns[strings.ToLower(col)] = typ
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("columns: %w", err)
	}
	rel.Indexes, err = s.indexes(ctx, rel.ResolvedSchema, table)
	return err
}

func (s *inspectSession) indexes(ctx context.Context, schema, table string) ([]domain.IndexFacts, error) {
	rows, err := s.conn.QueryContext(ctx, indexesSQL, schema, table)
	if err != nil {
		return nil, fmt.Errorf("indexes: %w", err)
	}
	defer rows.Close()
	var out []domain.IndexFacts
	for rows.Next() {
		var name, col string
		var nonUnique, subPart int
		if err := rows.Scan(&name, &nonUnique, &col, &subPart); err != nil {
			return nil, fmt.Errorf("indexes: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].Name != name {
			out = append(out, domain.IndexFacts{Name: name, Unique: nonUnique == 0, Valid: true})
		}
		if subPart > 0 {
			col = fmt.Sprintf("%s(%d)", col, subPart)
		}
		ix := &out[len(out)-1]
		ix.Columns = append(ix.Columns, col)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("indexes: %w", err)
	}
	return out, nil
}

// writeRates reads the tables' write counters in performance_schema twice,
// window apart. Without performance_schema (off by default on MariaDB) a
// table keeps UnknownSize.
func (s *inspectSession) writeRates(ctx context.Context, rels []domain.RelationFacts, tables []string, window time.Duration) {
	var on int
	if window <= 0 || s.conn.QueryRowContext(ctx, "SELECT @@performance_schema").Scan(&on) != nil || on == 0 {
		return
	}
	first := map[int]int64{}
	for i, r := range rels {
		if n, err := s.writes(ctx, r.ResolvedSchema, tables[i]); err == nil && r.Columns != nil {
			first[i] = n
		}
	}
	start := time.Now()
	select {
	case <-ctx.Done():
		return
	case <-time.After(window):
	}
	elapsed := time.Since(start).Seconds()
	for i, before := range first {
		if n, err := s.writes(ctx, rels[i].ResolvedSchema, tables[i]); err == nil {
			rels[i].WritesPerSecond = float64(max(n-before, 0)) / elapsed
		}
	}
}

func (s *inspectSession) writes(ctx context.Context, schema, table string) (int64, error) {
	var n int64
	err := s.conn.QueryRowContext(ctx, writesSQL, schema, table).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, err
}

// freeDisk is the space left on the file system of @@datadir, UnknownSize
// when it cannot be read or the directory is not on this host.
func (s *inspectSession) freeDisk(ctx context.Context) int64 {
	var dir string
	if err := s.conn.QueryRowContext(ctx, "SELECT @@datadir").Scan(&dir); err != nil || dir == "" {
		return domain.UnknownSize
	}
	return dialect.FreeBytes(dir)
}

// quoteIdent quotes a name for MySQL.
func quoteIdent(name string) string { return "`" + strings.ReplaceAll(name, "`", "``") + "`" }
