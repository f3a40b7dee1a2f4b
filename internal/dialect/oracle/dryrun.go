package oracle

import (
	"context"
	"fmt"
	"regexp"

	"github.com/hotswap-db/hotswap/internal/plsql"
)

// createsTable matches a CREATE TABLE and its name.
var createsTable = regexp.MustCompile(`(?is)^\s*CREATE\s+(?:GLOBAL\s+TEMPORARY\s+)?TABLE\s+` + name)

// The dry run's catalog look-ups.
const (
	tableExistsSQL  = `SELECT COUNT(*) FROM all_tables WHERE owner = :1 AND table_name = :2`
	objectExistsSQL = `SELECT COUNT(*) FROM all_objects WHERE owner = :1 AND object_name = :2`
)

// dryRun checks each statement against the catalog instead of running
// it: Oracle's DDL commits by itself, so none can run and be rolled back.
// The tables a statement alters or indexes must exist, the table it
// creates must not; PL/SQL units are not checked. The fencing token is
// checked when a history exists.
func (r *stepRun) dryRun(ctx context.Context, p scriptPlan) error {
	have, err := existingHistoryTables(ctx, r.conn)
	if err != nil {
		return err
	}
	if have["SCHEMA_HISTORY"] {
		if err := checkStep(ctx, r.conn, r.schema, r.req); err != nil {
			return err
		}
	}
	for _, s := range p.stmts {
		if err := r.check(ctx, s); err != nil {
			return err
		}
		r.emit(levelInfo, fmt.Sprintf("dry run: statement %d checked against the catalog, not run (Oracle's DDL commits by itself)", s.index+1), s.sql)
	}
	return nil
}

// check looks up what one statement needs.
func (r *stepRun) check(ctx context.Context, s statement) error {
	if s.kind != plsql.SQL {
		return nil
	}
	if m := createsTable.FindStringSubmatch(s.sql); m != nil {
		t := qualified(m[1], m[2], r.schema)
		if n, err := r.count(ctx, objectExistsSQL, t); err != nil || n > 0 {
			return r.checkFailure(err, s, fmt.Sprintf("ORA-00955: name is already used by an existing object: %s", t), oraNameUsed)
		}
		return nil
	}
	for _, t := range s.targets {
		if n, err := r.count(ctx, tableExistsSQL, t); err != nil || n == 0 {
			return r.checkFailure(err, s, fmt.Sprintf("ORA-00942: table or view does not exist: %s", t), oraNoSuchTable)
		}
	}
	return nil
}

// count runs a look-up of table t.
func (r *stepRun) count(ctx context.Context, query string, t table) (int, error) {
	var n int
	err := r.conn.QueryRowContext(ctx, query, t.schema, t.name).Scan(&n)
	return n, err
}

// checkFailure is a failed check, or the error of the look-up.
func (r *stepRun) checkFailure(err error, s statement, msg string, code int) error {
	if err != nil {
		return fmt.Errorf("dry run: look up the catalog: %w", err)
	}
	return &statementError{SQL: s.sql, DB: dbFailure("dry run: "+msg, codeText(code))}
}
