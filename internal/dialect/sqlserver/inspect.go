package sqlserver

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/domain"
)

var _ dialect.Inspector = (*Conn)(nil)

// inspectLockTimeout bounds every wait of a look-up behind a DDL's schema
// lock: a figure that cannot be read in time is reported unknown.
const inspectLockTimeout = 2 * time.Second

// The catalog queries of Inspect; @p1 is the name as written.
const (
	objectSQL = agentTag + `SELECT o.type, SCHEMA_NAME(o.schema_id), o.name FROM sys.objects o WHERE o.object_id = OBJECT_ID(@p1)`
	indexSQL  = agentTag + `SELECT TOP (1) OBJECT_SCHEMA_NAME(i.object_id) + N'.' + OBJECT_NAME(i.object_id), SCHEMA_NAME(o.schema_id)
	FROM sys.indexes i JOIN sys.objects o ON o.object_id = i.object_id
	WHERE i.name = PARSENAME(@p1, 1) AND o.is_ms_shipped = 0 AND (PARSENAME(@p1, 2) IS NULL OR SCHEMA_NAME(o.schema_id) = PARSENAME(@p1, 2))`
	sizeSQL = agentTag + `SELECT CAST(COALESCE(SUM(CASE WHEN index_id IN (0, 1) THEN row_count END), 0) AS bigint),
	CAST(COALESCE(SUM(reserved_page_count), 0) * 8192 AS bigint)
	FROM sys.dm_db_partition_stats WHERE object_id = OBJECT_ID(@p1)`
	// columnsSQL prints each type as a script writes it, with its
	// nullability: "nvarchar(50) NOT NULL" (the linter compares them).
	columnsSQL = agentTag + `SELECT c.name, TYPE_NAME(c.user_type_id) + CASE
		WHEN TYPE_NAME(c.user_type_id) IN (N'varchar', N'char', N'varbinary', N'binary')
			THEN N'(' + CASE WHEN c.max_length = -1 THEN N'max' ELSE CAST(c.max_length AS nvarchar(10)) END + N')'
		WHEN TYPE_NAME(c.user_type_id) IN (N'nvarchar', N'nchar')
			THEN N'(' + CASE WHEN c.max_length = -1 THEN N'max' ELSE CAST(c.max_length / 2 AS nvarchar(10)) END + N')'
		WHEN TYPE_NAME(c.user_type_id) IN (N'decimal', N'numeric')
			THEN N'(' + CAST(c.precision AS nvarchar(10)) + N',' + CAST(c.scale AS nvarchar(10)) + N')'
		ELSE N'' END + CASE WHEN c.is_nullable = 1 THEN N' NULL' ELSE N' NOT NULL' END
	FROM sys.columns c WHERE c.object_id = OBJECT_ID(@p1) ORDER BY c.column_id`
	indexesSQL = agentTag + `SELECT i.name, i.is_unique, i.is_disabled, COL_NAME(ic.object_id, ic.column_id)
	FROM sys.indexes i JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id AND ic.is_included_column = 0
	WHERE i.object_id = OBJECT_ID(@p1) AND i.name IS NOT NULL ORDER BY i.name, ic.key_ordinal`
	writesSQL = agentTag + `SELECT CAST(COALESCE(SUM(leaf_insert_count + leaf_update_count + leaf_delete_count), 0) AS bigint)
	FROM sys.dm_db_index_operational_stats(DB_ID(), OBJECT_ID(@p1), NULL, NULL) WHERE index_id IN (0, 1)`
	freeDiskSQL = agentTag + `SELECT CAST(MIN(vs.available_bytes) AS bigint)
	FROM sys.database_files f CROSS APPLY sys.dm_os_volume_stats(DB_ID(), f.file_id) vs WHERE f.type = 0`
)

// objectKinds names sys.objects types.
var objectKinds = map[string]string{"U": "table", "V": "view", "SO": "sequence", "ET": "foreign table"}

// Inspect looks the requested names up in the database's catalog, on one
// session whose LOCK_TIMEOUT keeps it from queueing behind a DDL; see
// dialect.Inspector. An unqualified name resolves as SQL Server resolves
// it (the login's default schema, then dbo). Sizes come from
// sys.dm_db_partition_stats, the write rate from
// sys.dm_db_index_operational_stats (rows of the heap or clustered index),
// the free space from sys.dm_os_volume_stats of the data files.
func (c *Conn) Inspect(ctx context.Context, req domain.CatalogRequest) (domain.CatalogFacts, error) {
	conn, err := c.session(ctx)
	if err != nil {
		return domain.CatalogFacts{}, c.scrub(fmt.Errorf("inspect the catalog of %s: %w", c.target, err))
	}
	defer conn.Close()
	setLock := fmt.Sprintf("%sSET LOCK_TIMEOUT %d", agentTag, inspectLockTimeout.Milliseconds())
	if _, err := conn.ExecContext(ctx, setLock); err != nil {
		return domain.CatalogFacts{}, c.scrub(fmt.Errorf("inspect the catalog of %s: %w", c.target, err))
	}
	defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), agentTag+"SET LOCK_TIMEOUT -1") }()
	facts := domain.CatalogFacts{FreeDiskBytes: figure(ctx, conn, freeDiskSQL)}
	before := map[int]int64{}
	for i, name := range req.Relations {
		rel, err := inspectRelation(ctx, conn, name)
		if err != nil {
			return domain.CatalogFacts{}, c.scrub(fmt.Errorf("inspect %s on %s: %w", name, c.target, err))
		}
		rel.WritesPerSecond = domain.UnknownSize
		if rel.Kind == "table" && req.WriteWindowMs > 0 {
			before[i] = figure(ctx, conn, writesSQL, qualified(rel))
		}
		facts.Relations = append(facts.Relations, rel)
	}
	if len(before) > 0 {
		measureWrites(ctx, conn, req.WriteWindowMs, before, facts.Relations)
	}
	return facts, nil
}

// inspectRelation reads one name: a table, view or sequence, else an
// index; a table's size, columns and indexes.
func inspectRelation(ctx context.Context, q queryer, name domain.ObjectName) (domain.RelationFacts, error) {
	rel := domain.RelationFacts{ObjectName: name, Rows: domain.UnknownSize, Bytes: domain.UnknownSize}
	var kind string
	err := q.QueryRowContext(ctx, objectSQL, name.String()).Scan(&kind, &rel.ResolvedSchema, &rel.Name)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return inspectIndex(ctx, q, rel)
	case err != nil:
		return rel, fmt.Errorf("look up: %w", err)
	}
	rel.Exists, rel.Kind = true, objectKinds[trimType(kind)]
	if rel.Kind != "table" {
		return rel, nil
	}
	full := qualified(rel)
	var rows, bytes int64
	if err := q.QueryRowContext(ctx, sizeSQL, full).Scan(&rows, &bytes); err == nil {
		rel.Rows, rel.Bytes = rows, bytes
	}
	if rel.Columns, err = readColumns(ctx, q, full); err != nil {
		return rel, err
	}
	rel.Indexes, err = readIndexes(ctx, q, full)
	return rel, err
}

// inspectIndex looks name up as an index.
func inspectIndex(ctx context.Context, q queryer, rel domain.RelationFacts) (domain.RelationFacts, error) {
	err := q.QueryRowContext(ctx, indexSQL, rel.ObjectName.String()).Scan(&rel.Table, &rel.ResolvedSchema)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return rel, nil
	case err != nil:
		return rel, fmt.Errorf("look up index: %w", err)
	}
	rel.Exists, rel.Kind = true, "index"
	return rel, nil
}

// readColumns maps the table's columns to their types.
func readColumns(ctx context.Context, q queryer, table string) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, columnsSQL, table)
	if err != nil {
		return nil, fmt.Errorf("columns: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, fmt.Errorf("columns: %w", err)
		}
		out[name] = typ
	}
	return out, rows.Err()
}

// readIndexes reads the table's indexes and their key columns.
func readIndexes(ctx context.Context, q queryer, table string) ([]domain.IndexFacts, error) {
	rows, err := q.QueryContext(ctx, indexesSQL, table)
	if err != nil {
		return nil, fmt.Errorf("indexes: %w", err)
	}
	defer rows.Close()
	var out []domain.IndexFacts
	for rows.Next() {
		var name, col string
		var unique, disabled bool
		if err := rows.Scan(&name, &unique, &disabled, &col); err != nil {
			return nil, fmt.Errorf("indexes: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].Name != name {
			out = append(out, domain.IndexFacts{Name: name, Unique: unique, Valid: !disabled})
		}
		out[len(out)-1].Columns = append(out[len(out)-1].Columns, col)
	}
	return out, rows.Err()
}

// measureWrites waits the window and turns the write counters' growth into
// rates.
func measureWrites(ctx context.Context, q queryer, windowMs int64, before map[int]int64, rels []domain.RelationFacts) {
	window := time.Duration(windowMs) * time.Millisecond
	t := time.NewTimer(window)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return
	case <-t.C:
	}
	for i, b := range before {
		after := figure(ctx, q, writesSQL, qualified(rels[i]))
		if b >= 0 && after >= b {
			rels[i].WritesPerSecond = float64(after-b) / window.Seconds()
		}
	}
}

// figure reads one number, UnknownSize when it cannot be read (no
// permission, a lock timeout).
func figure(ctx context.Context, q queryer, stmt string, args ...any) int64 {
	var n sql.NullInt64
	if err := q.QueryRowContext(ctx, stmt, args...).Scan(&n); err != nil || !n.Valid {
		return domain.UnknownSize
	}
	return n.Int64
}

// qualified is the relation's schema-qualified name.
func qualified(rel domain.RelationFacts) string { return rel.ResolvedSchema + "." + rel.Name }

// trimType drops the padding of sys.objects.type (char(2)).
func trimType(t string) string {
	for len(t) > 0 && t[len(t)-1] == ' ' {
		t = t[:len(t)-1]
	}
	return t
}
