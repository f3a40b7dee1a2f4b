package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	pgquery "github.com/pganalyze/pg_query_go/v6"

	"github.com/hotswap-db/hotswap/internal/sqlcheck/pgcheck"
)

// indexByNameSQL finds the index named $1 on table $2: whether it is
// valid, and its definition.
const indexByNameSQL = `SELECT i.indisvalid, pg_get_indexdef(i.indexrelid)
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relname = $1 AND i.indrelid = to_regclass($2)`

// reconcileIndexes recognises, for a step an earlier delivery started, the
// CREATE INDEX CONCURRENTLY statements that delivery's backend finished
// after the agent lost it (the backend runs on; the progress row was never
// written): a valid index of the statement's name and definition is that
// statement's work, so it is recorded as done and not run again. An
// invalid one is left to dropInvalidIndex, which drops it before the
// statement runs again. done gains the statements recognised.
func (r *stepRun) reconcileIndexes(ctx context.Context, p scriptPlan, done map[int]bool) error {
	for _, s := range p.stmts {
		ix := s.createIndex
		if ix == nil || !ix.concurrent || ix.name == "" || done[s.index] {
			continue
		}
		same, err := r.finishedIndex(ctx, s)
		if err != nil {
			return err
		}
		if !same {
			continue
		}
		if err := recordProgress(ctx, r.conn, r.req.ExecutionID, r.req.StepID, s.index); err != nil {
			return err
		}
		done[s.index] = true
		r.emit(levelInfo, fmt.Sprintf("index %s is valid and matches statement %d: an earlier delivery's backend built it, recorded as done",
			ix.name, s.index+1), s.sql)
	}
	return nil
}

// finishedIndex reports whether the index s creates exists, valid, with
// the definition s gives it.
func (r *stepRun) finishedIndex(ctx context.Context, s statement) (bool, error) {
	var valid bool
	var def string
	err := r.conn.QueryRow(ctx, indexByNameSQL, s.createIndex.name, s.createIndex.table).Scan(&valid, &def)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up index %s: %w", s.createIndex.name, err)
	}
	if !valid {
		return false, nil
	}
	same, err := sameIndexDefinition(s.sql, def)
	if err != nil {
		return false, err
	}
	if !same {
		r.emit(levelWarn, fmt.Sprintf("index %s exists with another definition (%s): the statement runs as written", s.createIndex.name, def), s.sql)
	}
	return same, nil
}

// sameIndexDefinition compares a CREATE INDEX statement with an index's
// pg_get_indexdef, from their parse trees: the name, CONCURRENTLY, IF NOT
// EXISTS, the table's spelling (the caller matched the table itself),
// the tablespace and the spelling of default orderings do not count.
func sameIndexDefinition(stmt, indexdef string) (bool, error) {
	a, err := indexShape(stmt)
	if err != nil {
		return false, err
	}
	b, err := indexShape(indexdef)
	if err != nil {
		return false, err
	}
	return a == b, nil
}

// indexShape is the deparsed, normalised form of a CREATE INDEX statement.
func indexShape(sql string) (string, error) {
	tree, err := pgquery.Parse(sql)
	if err != nil {
		return "", fmt.Errorf("parse index definition: %w", err)
	}
	if len(tree.GetStmts()) != 1 || tree.GetStmts()[0].GetStmt().GetIndexStmt() == nil {
		return "", fmt.Errorf("not one CREATE INDEX: %s", pgcheck.FirstWords(sql))
	}
	ix := tree.GetStmts()[0].GetStmt().GetIndexStmt()
	ix.Idxname, ix.Concurrent, ix.IfNotExists, ix.TableSpace = "", false, false, ""
	ix.Relation = &pgquery.RangeVar{Relname: "t", Inh: true, Relpersistence: "p"}
	if ix.AccessMethod == "" {
		ix.AccessMethod = "btree"
	}
	for _, p := range ix.GetIndexParams() {
		normaliseOrdering(p.GetIndexElem())
	}
	for _, p := range tree.GetStmts() {
		p.StmtLocation, p.StmtLen = 0, 0
	}
	out, err := pgquery.Deparse(tree)
	if err != nil {
		return "", fmt.Errorf("deparse index definition: %w", err)
	}
	return out, nil
}

// normaliseOrdering writes the default ordering of an index column one way:
// ASC is the default, and so are NULLS LAST after ASC and NULLS FIRST
// after DESC.
func normaliseOrdering(e *pgquery.IndexElem) {
	if e == nil {
		return
	}
	if e.Ordering == pgquery.SortByDir_SORTBY_ASC {
		e.Ordering = pgquery.SortByDir_SORTBY_DEFAULT
	}
	asc := e.Ordering == pgquery.SortByDir_SORTBY_DEFAULT
	if (asc && e.NullsOrdering == pgquery.SortByNulls_SORTBY_NULLS_LAST) ||
		(e.Ordering == pgquery.SortByDir_SORTBY_DESC && e.NullsOrdering == pgquery.SortByNulls_SORTBY_NULLS_FIRST) {
		e.NullsOrdering = pgquery.SortByNulls_SORTBY_NULLS_DEFAULT
	}
}
