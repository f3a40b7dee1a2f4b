package mysql

import (
	"context"
	"fmt"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// dryRun checks each statement against the catalog instead of running it
// (DDL is not transactional here, so nothing is executed): the tables it
// alters exist, the table it creates does not. It checks the fencing
// token when a history exists, and writes nothing.
func (r *stepRun) dryRun(ctx context.Context, p scriptPlan) error {
	ok, err := historyExists(ctx, r.conn)
	if err != nil {
		return err
	}
	if ok {
		if err := checkStep(ctx, r.conn, r.c.schema, r.req); err != nil {
			return err
		}
	}
	created := map[table]bool{}
	for _, s := range p.stmts {
		r.emit(levelInfo, fmt.Sprintf("dry run: statement %d (%s) not executed (DDL is not transactional here): checked instead",
			s.index+1, firstWords(s.sql)), s.sql)
		if err := r.dryCheck(ctx, s, created); err != nil {
			return err
		}
	}
	return nil
}

// dryCheck checks one statement.
func (r *stepRun) dryCheck(ctx context.Context, s statement, created map[table]bool) error {
	if ct, ok := s.node.(*ast.CreateTableStmt); ok {
		t := table{schema: ct.Table.Schema.O, name: ct.Table.Name.O}
		if t.schema == "" {
			t.schema = r.c.schema
		}
		exists, err := tableExists(ctx, r.conn, t)
		if err != nil {
			return err
		}
		if exists && !ct.IfNotExists {
			return &statementError{SQL: s.sql, DB: dbFailure(fmt.Sprintf("dry run check: table %s already exists", t), "1050")}
		}
		created[t] = true
		return nil
	}
	if dt, ok := s.node.(*ast.DropTableStmt); ok && dt.IfExists {
		return nil
	}
	for _, t := range s.targets {
		exists, err := tableExists(ctx, r.conn, t)
		if err != nil {
			return err
		}
		if !exists && !created[t] {
			return &statementError{SQL: s.sql, DB: dbFailure(fmt.Sprintf("dry run check: table %s does not exist", t), "1146")}
		}
	}
	return nil
}

// tableExists reports whether t exists.
func tableExists(ctx context.Context, q queryer, t table) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`,
		t.schema, t.name).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("dry run check of %s: %w", t, err)
	}
	return n > 0, nil
}
