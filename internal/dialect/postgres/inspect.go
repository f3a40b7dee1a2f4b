package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/domain"
)

var _ dialect.Inspector = (*Conn)(nil)

// countLimit is the largest never-analysed table whose rows Inspect counts
// instead of estimating.
const countLimit = 256 << 20

// relationSQL resolves a (quoted) name the way the server would, and reads
// what the catalog knows of it.
const relationSQL = `
SELECT c.oid, n.nspname, c.relkind::text, c.reltuples::bigint,
       CASE WHEN c.relkind IN ('r', 'p', 'm', 'i', 't') THEN pg_total_relation_size(c.oid) ELSE 0 END,
       COALESCE(t.relname, '')
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_index ix ON ix.indexrelid = c.oid
LEFT JOIN pg_class t ON t.oid = ix.indrelid
WHERE c.oid = to_regclass($1)`

const columnsSQL = `
SELECT a.attname, format_type(a.atttypid, a.atttypmod)
FROM pg_attribute a WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`

const indexesSQL = `
SELECT i.relname, ix.indisunique, ix.indisvalid, pg_get_indexdef(ix.indexrelid),
       ARRAY(SELECT pg_get_indexdef(ix.indexrelid, k, true) FROM generate_series(1, ix.indnkeyatts) k)
FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid
WHERE ix.indrelid = $1 ORDER BY i.relname`

const writesSQL = `
SELECT COALESCE(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint FROM pg_stat_all_tables WHERE relid = $1`

var relkinds = map[string]string{"r": "table", "p": "partitioned table", "i": "index", "I": "partitioned index",
	"S": "sequence", "v": "view", "m": "materialized view", "f": "foreign table", "c": "composite type", "t": "TOAST table"}

// Inspect looks the requested relations up in the catalog, in a read-only
// transaction whose lock_timeout keeps it from queueing behind a DDL; see
// dialect.Inspector.
func (c *Conn) Inspect(ctx context.Context, req domain.CatalogRequest) (domain.CatalogFacts, error) {
	facts := domain.CatalogFacts{FreeDiskBytes: c.freeDisk(ctx)}
	oids := make([]uint32, len(req.Relations))
	err := pgx.BeginTxFunc(ctx, c.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '2s'; SET LOCAL statement_timeout = '30s'"); err != nil {
			return fmt.Errorf("set timeouts: %w", err)
		}
		for i, name := range req.Relations {
			rel, oid, err := inspectRelation(ctx, tx, name)
			if err != nil {
				return fmt.Errorf("inspect %s: %w", name, err)
			}
			oids[i] = oid
			facts.Relations = append(facts.Relations, rel)
		}
		return nil
	})
	if err != nil {
		return domain.CatalogFacts{}, c.scrub(fmt.Errorf("inspect the catalog of %s: %w", c.target, err))
	}
	c.writeRates(ctx, facts.Relations, oids, time.Duration(req.WriteWindowMs)*time.Millisecond)
	return facts, nil
}

// inspectRelation reads one relation; a name that resolves to nothing is
// reported as not existing.
func inspectRelation(ctx context.Context, tx pgx.Tx, name domain.ObjectName) (domain.RelationFacts, uint32, error) {
	rel := domain.RelationFacts{ObjectName: name, WritesPerSecond: domain.UnknownSize}
	ident := pgx.Identifier{name.Name}
	if name.Schema != "" {
		ident = pgx.Identifier{name.Schema, name.Name}
	}
	var oid uint32
	var kind string
	err := tx.QueryRow(ctx, relationSQL, ident.Sanitize()).Scan(&oid, &rel.ResolvedSchema, &kind, &rel.Rows, &rel.Bytes, &rel.Table)
	if errors.Is(err, pgx.ErrNoRows) {
		return rel, 0, nil
	}
	if err != nil {
		return rel, 0, err
	}
	rel.Exists, rel.Kind = true, relkinds[kind]
	if kind != "r" && kind != "p" && kind != "m" {
		return rel, oid, nil
	}
	if rel.Rows < 0 && rel.Bytes <= countLimit {
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+ident.Sanitize()).Scan(&rel.Rows); err != nil {
			return rel, oid, fmt.Errorf("count rows: %w", err)
		}
	}
	if rel.Rows < 0 {
		rel.Rows = rel.Bytes / 100 // never analysed and too large to count: about 100 bytes a row
	}
	if err := tableDetails(ctx, tx, oid, &rel); err != nil {
		return rel, oid, err
	}
	return rel, oid, nil
}

// tableDetails reads a table's columns and indexes.
func tableDetails(ctx context.Context, tx pgx.Tx, oid uint32, rel *domain.RelationFacts) error {
	rows, err := tx.Query(ctx, columnsSQL, oid)
	if err != nil {
		return fmt.Errorf("columns: %w", err)
	}
	rel.Columns = map[string]string{}
	for rows.Next() {
		var col, typ string
		if err := rows.Scan(&col, &typ); err != nil {
			return fmt.Errorf("columns: %w", err)
		}
		rel.Columns[col] = typ
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("columns: %w", err)
	}
	rows, err = tx.Query(ctx, indexesSQL, oid)
	if err != nil {
		return fmt.Errorf("indexes: %w", err)
	}
	for rows.Next() {
		var ix domain.IndexFacts
		if err := rows.Scan(&ix.Name, &ix.Unique, &ix.Valid, &ix.Definition, &ix.Columns); err != nil {
			return fmt.Errorf("indexes: %w", err)
		}
		rel.Indexes = append(rel.Indexes, ix)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("indexes: %w", err)
	}
	return nil
}

// writeRates reads the tables' write counters twice, window apart. The
// statistics are those the server has flushed (about once a second), so
// the rate is an estimate; a table whose counters cannot be read keeps
// UnknownSize.
func (c *Conn) writeRates(ctx context.Context, rels []domain.RelationFacts, oids []uint32, window time.Duration) {
	if window <= 0 {
		return
	}
	first := map[int]int64{}
	for i, oid := range oids {
		if oid != 0 && rels[i].Columns != nil {
			var n int64
			if err := c.pool.QueryRow(ctx, writesSQL, oid).Scan(&n); err == nil {
				first[i] = n
			}
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
		var n int64
		if err := c.pool.QueryRow(ctx, writesSQL, oids[i]).Scan(&n); err == nil {
			rels[i].WritesPerSecond = float64(max(n-before, 0)) / elapsed
		}
	}
}

// freeDisk is the space left on the file system of the data directory,
// UnknownSize when the setting cannot be read (it takes superuser or
// pg_read_all_settings) or the directory is not on this host.
func (c *Conn) freeDisk(ctx context.Context) int64 {
	var dir string
	if err := c.pool.QueryRow(ctx, "SELECT current_setting('data_directory')").Scan(&dir); err != nil || dir == "" {
		return domain.UnknownSize
	}
	return dialect.FreeBytes(dir)
}
