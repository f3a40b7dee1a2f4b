package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/sqlcheck/pgcheck"
)

// dryCheck stands in, in a dry run, for a statement that cannot run in the
// dry run's transaction: the script's own transaction control is skipped,
// and a statement that cannot run in a transaction block is checked
// against the catalog (as the transaction sees it, after the statements
// before it) instead of being executed.
func (r *stepRun) dryCheck(ctx context.Context, q querier, s statement) error {
	if s.txControl {
		r.emit(levelInfo, fmt.Sprintf("dry run: statement %d (%s) not executed: the dry run is one transaction, rolled back",
			s.index+1, pgcheck.FirstWords(s.sql)), s.sql)
		return nil
	}
	r.emit(levelInfo, fmt.Sprintf("dry run: statement %d (%s) not executed, as it cannot run in a transaction block: checked instead",
		s.index+1, s.noTx), s.sql)
	switch {
	case s.createIndex != nil:
		return checkCreateIndex(ctx, q, s)
	case s.dropIndex != nil:
		return checkDropIndex(ctx, q, s)
	}
	return nil
}

// checkCreateIndex checks that the table exists and the index name is free.
func checkCreateIndex(ctx context.Context, q querier, s statement) error {
	ix := s.createIndex
	const schemaSQL = `SELECT n.nspname::text FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`
	var schema string
	err := q.QueryRow(ctx, schemaSQL, ix.table).Scan(&schema)
	if errors.Is(err, pgx.ErrNoRows) {
		return checkFailed(s, fmt.Sprintf("dry run check: table %s does not exist", ix.table), sqlstateUndefinedTable)
	}
	if err != nil {
		return fmt.Errorf("dry run check of table %s: %w", ix.table, err)
	}
	if ix.name == "" || ix.ifNotExists {
		return nil
	}
	var taken bool
	const nameSQL = `SELECT to_regclass(format('%I.%I', $1::text, $2::text)) IS NOT NULL`
	if err := q.QueryRow(ctx, nameSQL, schema, ix.name).Scan(&taken); err != nil {
		return fmt.Errorf("dry run check of index %s: %w", ix.name, err)
	}
	if taken {
		return checkFailed(s, fmt.Sprintf("dry run check: relation %s already exists in schema %s",
			quoteIdent(ix.name), quoteIdent(schema)), sqlstateDuplicateTable)
	}
	return nil
}

// checkDropIndex checks that each index exists, unless IF EXISTS.
func checkDropIndex(ctx context.Context, q querier, s statement) error {
	const kindSQL = `SELECT c.relkind::text FROM pg_class c WHERE c.oid = to_regclass($1)`
	for _, name := range s.dropIndex.names {
		var kind string
		err := q.QueryRow(ctx, kindSQL, name).Scan(&kind)
		switch {
		case errors.Is(err, pgx.ErrNoRows) && s.dropIndex.missingOk:
		case errors.Is(err, pgx.ErrNoRows):
			return checkFailed(s, fmt.Sprintf("dry run check: index %s does not exist", name), sqlstateUndefinedObject)
		case err != nil:
			return fmt.Errorf("dry run check of index %s: %w", name, err)
		case kind != "i" && kind != "I":
			return checkFailed(s, fmt.Sprintf("dry run check: %s is not an index", name), sqlstateWrongObjectType)
		}
	}
	return nil
}

// checkFailed is a dry-run check that failed, reported in the outcome.
func checkFailed(s statement, msg, sqlstate string) error {
	return &statementError{SQL: s.sql, DB: dbFailure(msg, sqlstate)}
}
