package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// Schema fingerprints: after each applied step, in the step's own
// transaction when it has one, the executor records the catalog items
// (columns, indexes, constraints) of every table the step touched; once
// the step committed, it records one line per table of the whole schema
// with a hash of its items. SchemaDrift compares the latest record of each
// with the live catalog and names what changed out of band: a column added
// by hand, an index dropped, a table created or changed that no step
// touched.
//
// The whole schema is read after the commit, not under the step's locks:
// on a thousand tables that read takes tens of milliseconds, which the
// application would spend waiting behind the DDL's lock. Losing that
// record (the agent dies right after the commit) loses nothing drift
// needs: the tables the step touched have their own records, which the
// comparison of the whole schema leaves out.

const (
	fingerprintTableSQL = `CREATE TABLE IF NOT EXISTS hotswap.schema_fingerprint (
	id           bigserial PRIMARY KEY,
	execution_id text NOT NULL,
	step_id      text NOT NULL,
	object       text NOT NULL,
	items        text[] NOT NULL,
	recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp())`
	// wholeSchema is the object of the record of the whole schema, whose
	// items are "table hash" lines.
	wholeSchema = "*"

	// catalogItemsSQL lists the items of the user tables, or of the
	// tables $1 names (NULL: all): one text line per column, index and
	// constraint.
	catalogItemsSQL = catalogItemsQuery + "\nORDER BY 1, 2"
)

// catalogItemsQuery is catalogItemsSQL without its order.
const catalogItemsQuery = `WITH rels AS (
	SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'hotswap')
		AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
		AND ($1::text[] IS NULL OR c.oid IN (SELECT to_regclass(t) FROM unnest($1::text[]) t)))
SELECT r.oid::regclass::text, x.item FROM rels r, LATERAL (
	SELECT 'column ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
		|| CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
		|| coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
	FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
	WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
	UNION ALL
	SELECT 'index ' || ic.relname || CASE WHEN i.indisvalid THEN '' ELSE ' (invalid)' END || ': ' || pg_get_indexdef(i.indexrelid)
	FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = r.oid
	UNION ALL
	SELECT 'constraint ' || conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = r.oid
) x(item)`

// catalogItems reads the items of every user table, by table.
func catalogItems(ctx context.Context, q querier) (map[string][]string, error) {
	rows, err := q.Query(ctx, catalogItemsSQL, nil)
	if err != nil {
		return nil, fmt.Errorf("read the catalog: %w", err)
	}
	return scanItems(rows)
}

// scanItems reads catalogItemsSQL's rows.
func scanItems(rows pgx.Rows) (map[string][]string, error) {
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var rel, item string
		if err := rows.Scan(&rel, &item); err != nil {
			return nil, fmt.Errorf("read the catalog: %w", err)
		}
		out[rel] = append(out[rel], item)
	}
	return out, rows.Err()
}

// tableHashes writes each table's items as one "table hash" line, sorted.
func tableHashes(items map[string][]string) []string {
	out := make([]string, 0, len(items))
	for rel, its := range items {
		sum := sha256.Sum256([]byte(strings.Join(its, "\n")))
		out = append(out, rel+" "+hex.EncodeToString(sum[:8]))
	}
	slices.Sort(out)
	return out
}

// touchedTables lists the tables the statements of p lock or index.
func touchedTables(p scriptPlan) []string {
	var out []string
	for _, s := range p.stmts {
		for _, t := range s.targets {
			out = append(out, t.name)
		}
		if s.createIndex != nil && s.createIndex.table != "" {
			out = append(out, s.createIndex.table)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// insertFingerprintSQL writes one record.
const insertFingerprintSQL = `INSERT INTO hotswap.schema_fingerprint (execution_id, step_id, object, items) VALUES ($1, $2, $3, $4)`

// insertTouchedSQL writes, in one statement, the record of each table $1
// names (the tables a step touched, touchedTables) from the live catalog:
// its items in catalogItemsSQL's order, none when the step dropped it (an
// empty record says it is meant to be gone, under the name as written
// without quotes). The step's transaction runs it under the DDL's locks,
// so it is one statement there, not a read and the writes after it.
const insertTouchedSQL = `WITH items(rel, item) AS (` + catalogItemsQuery + `)
INSERT INTO hotswap.schema_fingerprint (execution_id, step_id, object, items)
SELECT $2, $3, coalesce(to_regclass(t)::text, replace(t, '"', '')),
	coalesce((SELECT array_agg(i.item ORDER BY i.item) FROM items i WHERE i.rel = to_regclass(t)::text), '{}')
FROM unnest($1::text[]) t`

// queueTouched adds to b the read of the catalog of the tables p touches;
// read reads the answer and throws it away (see stepRun.readAhead).
func queueTouched(b *pgx.Batch, p scriptPlan) (read func(pgx.BatchResults) error) {
	touched := touchedTables(p)
	if len(touched) == 0 {
		return func(pgx.BatchResults) error { return nil }
	}
	b.Queue(catalogItemsSQL, touched)
	return func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		rows.Close()
		return rows.Err()
	}
}

// recordSchema records the whole schema's table hashes for a step that
// committed, on q outside any transaction, in a transaction of its own
// that does not wait for its commit to reach the disk (a record lost in a
// crash costs drift nothing, see above).
func recordSchema(ctx context.Context, q session, executionID, stepID string) error {
	all, err := catalogItems(ctx, q)
	if err != nil {
		return fmt.Errorf("record the schema's fingerprint: %w", err)
	}
	b := &pgx.Batch{}
	b.Queue(`SELECT set_config('synchronous_commit', 'off', true)`)
	b.Queue(insertFingerprintSQL, executionID, stepID, wholeSchema, tableHashes(all))
	if err := q.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("record the schema's fingerprint: %w", err)
	}
	return nil
}

// recorded is the latest fingerprint of one object.
type recorded struct {
	object, executionID, stepID string
	items                       []string
}

// SchemaDrift compares the latest fingerprint of each object with the live
// catalog (dialect.SchemaDrifter). An instance without fingerprints has no
// drift to report. It first waits for the whole-schema records still being
// written by the tails of finished steps.
func (c *Conn) SchemaDrift(ctx context.Context) ([]domain.SchemaDrift, error) {
	if err := c.tails.wait(ctx); err != nil {
		return nil, err
	}
	var ok bool
	if err := c.pool.QueryRow(ctx, `SELECT to_regclass('hotswap.schema_fingerprint') IS NOT NULL`).Scan(&ok); err != nil || !ok {
		return nil, c.scrubErr(err)
	}
	rows, err := c.pool.Query(ctx, `SELECT DISTINCT ON (object) object, execution_id, step_id, items
		FROM hotswap.schema_fingerprint ORDER BY object, id DESC`)
	if err != nil {
		return nil, c.scrubErr(fmt.Errorf("read fingerprints: %w", err))
	}
	recs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (recorded, error) {
		var x recorded
		err := r.Scan(&x.object, &x.executionID, &x.stepID, &x.items)
		return x, err
	})
	if err != nil {
		return nil, c.scrubErr(fmt.Errorf("read fingerprints: %w", err))
	}
	live, err := catalogItems(ctx, c.pool)
	if err != nil {
		return nil, c.scrubErr(err)
	}
	return compareFingerprints(recs, live), nil
}

// scrubErr scrubs err, keeping nil.
func (c *Conn) scrubErr(err error) error {
	if err == nil {
		return nil
	}
	return c.scrub(err)
}

// compareFingerprints names each difference between the records and the
// live items.
func compareFingerprints(recs []recorded, live map[string][]string) []domain.SchemaDrift {
	var out []domain.SchemaDrift
	tables := map[string]bool{}
	for _, r := range recs {
		if r.object != wholeSchema {
			tables[r.object] = true
		}
	}
	for _, r := range recs {
		if r.object == wholeSchema {
			out = append(out, compareSchema(r, live, tables)...)
		} else {
			out = append(out, compareTable(r, live)...)
		}
	}
	return out
}

// compareTable compares a table's recorded items with its live ones.
func compareTable(r recorded, live map[string][]string) []domain.SchemaDrift {
	drift := func(object, change, msg string) domain.SchemaDrift {
		return domain.SchemaDrift{Object: object, Change: change, Message: msg, ExecutionID: r.executionID, StepID: r.stepID}
	}
	now, ok := live[r.object]
	switch {
	case len(r.items) == 0 && ok:
		return []domain.SchemaDrift{drift("table "+r.object, "added",
			fmt.Sprintf("table %s, dropped by step %s, was created again out of band", r.object, r.stepID))}
	case len(r.items) == 0:
		return nil
	case !ok:
		return []domain.SchemaDrift{drift("table "+r.object, "removed",
			fmt.Sprintf("table %s was dropped out of band (after step %s)", r.object, r.stepID))}
	}
	var out []domain.SchemaDrift
	for _, it := range r.items {
		if !slices.Contains(now, it) {
			out = append(out, drift(r.object+": "+it, "removed",
				fmt.Sprintf("%s of table %s was dropped or changed out of band (after step %s)", it, r.object, r.stepID)))
		}
	}
	for _, it := range now {
		if !slices.Contains(r.items, it) {
			out = append(out, drift(r.object+": "+it, "added",
				fmt.Sprintf("%s of table %s was added or changed out of band (after step %s)", it, r.object, r.stepID)))
		}
	}
	return out
}

// compareSchema compares the whole schema's table hashes with the live
// ones, leaving out the tables compared item by item.
func compareSchema(r recorded, live map[string][]string, itemized map[string]bool) []domain.SchemaDrift {
	was := map[string]string{}
	for _, line := range r.items {
		rel, sum, _ := strings.Cut(line, " ")
		was[rel] = sum
	}
	now := map[string]string{}
	for _, line := range tableHashes(live) {
		rel, sum, _ := strings.Cut(line, " ")
		now[rel] = sum
	}
	var out []domain.SchemaDrift
	add := func(rel, change, msg string) {
		out = append(out, domain.SchemaDrift{Object: "table " + rel, Change: change, Message: msg,
			ExecutionID: r.executionID, StepID: r.stepID})
	}
	for _, rel := range sortedKeys(now) {
		switch sum, ok := was[rel]; {
		case itemized[rel]:
		case !ok:
			add(rel, "added", fmt.Sprintf("table %s was created out of band (after step %s)", rel, r.stepID))
		case sum != now[rel]:
			add(rel, "changed", fmt.Sprintf("table %s was changed out of band (after step %s)", rel, r.stepID))
		}
	}
	for _, rel := range sortedKeys(was) {
		if _, ok := now[rel]; !ok && !itemized[rel] {
			add(rel, "removed", fmt.Sprintf("table %s was dropped out of band (after step %s)", rel, r.stepID))
		}
	}
	return out
}

// sortedKeys returns m's keys in order.
func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
