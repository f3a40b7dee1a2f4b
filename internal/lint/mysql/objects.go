package mysql

import (
	"fmt"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/hotswap-db/hotswap/internal/lint"
)

// batchSize is the number of rows each batch of a rewrite touches.
const batchSize = 10000

// addConstraint: secondary indexes build in place; FULLTEXT and SPATIAL
// block writes; a primary key rebuilds; a foreign key copies the table
// unless foreign_key_checks is off.
func (l *linter) addConstraint(st *alterState, c *ast.Constraint) verdict {
	switch c.Tp {
	case ast.ConstraintFulltext:
		return l.blockingIndex(st, "FULLTEXT")
	case ast.ConstraintPrimaryKey:
		return l.rebuild(st, "adding a primary key rebuilds the table")
	case ast.ConstraintForeignKey:
		l.classify(lint.ClassConstraint)
		if !l.fkChecks {
			return verdict{work: lint.WorkNone}
		}
		l.finding(lint.Finding{Rule: "mysql-foreign-key-copy", Severity: lint.Warning, Class: lint.ClassRewrite, Table: st.table, SizeDependent: true,
			Message: "ADD FOREIGN KEY with foreign_key_checks on needs ALGORITHM=COPY: writes are blocked until the copy ends",
			Effect:  lint.Effect{Lock: "shared metadata lock: reads only", Duration: "until the copy ends", Work: lint.WorkCopy}})
		return verdict{work: lint.WorkNone, hazard: true, fixed: true, fixSQL: []string{
			"-- with foreign_key_checks off the key is added in place; existing rows are not checked, so verify them first\nSET foreign_key_checks = 0;",
			"SET foreign_key_checks = 1;"}}
	case ast.ConstraintCheck:
		l.classify(lint.ClassConstraint)
		return verdict{work: lint.WorkNone}
	}
	if c.Option != nil && c.Option.Tp == ast.IndexTypeRtree {
		return l.blockingIndex(st, "SPATIAL")
	}
	return verdict{work: lint.WorkNone}
}

func (l *linter) blockingIndex(st *alterState, kind string) verdict {
	l.finding(lint.Finding{Rule: "mysql-blocking-index", Severity: lint.Warning, Class: lint.ClassBlocking, Table: st.table, SizeDependent: true,
		Message: fmt.Sprintf("a %s index is built in place but without concurrent writes (LOCK=SHARED); the first FULLTEXT index also rebuilds the table", kind),
		Effect:  lint.Effect{Lock: "SHARED: reads only", Duration: "until the index is built", Work: lint.WorkBuild}})
	return verdict{work: lint.WorkNone, blocks: true, hazard: true}
}

// createIndex is ADD INDEX in another form.
func (l *linter) createIndex(s *ast.CreateIndexStmt) {
	t := tableKey(s.Table)
	l.classify(lint.ClassAdditive)
	if l.created[fold(t)] {
		return
	}
	alter := &ast.AlterTableStmt{Table: s.Table, Specs: []*ast.AlterTableSpec{{Tp: ast.AlterTableAddConstraint,
		Constraint: &ast.Constraint{Tp: indexConstraint(s.KeyType), Name: s.IndexName, Keys: s.IndexPartSpecifications, Option: s.IndexOption}}}}
	if s.LockAlg != nil {
		if s.LockAlg.AlgorithmTp != ast.AlgorithmTypeDefault {
			alter.Specs = append(alter.Specs, &ast.AlterTableSpec{Tp: ast.AlterTableAlgorithm, Algorithm: s.LockAlg.AlgorithmTp})
		}
		if s.LockAlg.LockTp != ast.LockTypeDefault {
			alter.Specs = append(alter.Specs, &ast.AlterTableSpec{Tp: ast.AlterTableLock, LockType: s.LockAlg.LockTp})
		}
	}
	l.alterTable(alter)
}

func indexConstraint(k ast.IndexKeyType) ast.ConstraintType {
	switch k {
	case ast.IndexKeyTypeUnique:
		return ast.ConstraintUniq
	case ast.IndexKeyTypeFulltext:
		return ast.ConstraintFulltext
	}
	return ast.ConstraintIndex
}

func (l *linter) dropTable(s *ast.DropTableStmt) {
	l.classify(lint.ClassAdditive)
	if s.IsView {
		return
	}
	for _, t := range s.Tables {
		if !l.created[fold(tableKey(t))] {
			l.dataLoss("ban-drop-table", fmt.Sprintf("DROP TABLE %s deletes the table and all its rows", tableKey(t)), tableKey(t), l.sql())
			return
		}
		delete(l.created, fold(tableKey(t)))
	}
}

func (l *linter) renameTables(s *ast.RenameTableStmt) {
	for _, tt := range s.TableToTables {
		old := tableKey(tt.OldTable)
		if l.created[fold(old)] {
			l.created[fold(tableKey(tt.NewTable))] = true
			l.classify(lint.ClassAdditive)
			continue
		}
		l.renameTable(old, tableKey(tt.NewTable), tt.NewTable)
		return
	}
}

func (l *linter) renameTable(old, new string, newName *ast.TableName) {
	l.finding(lint.Finding{Rule: "renaming-table", Severity: lint.Warning, Class: lint.ClassRename, Table: old,
		Message: fmt.Sprintf("renaming table %s to %s breaks every query and release that still uses the old name", old, new),
		Effect:  lint.Effect{Lock: "exclusive metadata lock", Duration: "brief", Work: lint.WorkNone},
		Rewrite: fmt.Sprintf("-- expose the new name as an updatable view; rename the table once no release uses the old name\nCREATE VIEW %s AS SELECT * FROM %s;", restore(newName), quoteKey(old))})
}

func quoteKey(k string) string {
	schema, name := lint.SplitName(k)
	if schema == "" {
		return quote(name)
	}
	return quote(schema) + "." + quote(name)
}

// optimize rebuilds InnoDB tables (online, but every row is rewritten).
func (l *linter) optimize(s *ast.OptimizeTableStmt) {
	l.classify(lint.ClassAdditive)
	for _, t := range s.Tables {
		if l.created[fold(tableKey(t))] {
			continue
		}
		l.finding(lint.Finding{Rule: "mysql-online-rebuild", Severity: lint.Warning, Class: lint.ClassBlocking, Table: tableKey(t), SizeDependent: true,
			Message: "OPTIMIZE TABLE rebuilds the InnoDB table: online, but it reads and rewrites every row and replicas lag for as long",
			Effect:  lint.Effect{Lock: "exclusive metadata lock at start and end", Duration: "as long as a copy", Work: lint.WorkRebuild},
			Rewrite: ghost(t.Name.O, "ENGINE=InnoDB")})
		return
	}
}

// delete: without WHERE it empties the table; with a WHERE that neither
// picks rows by key nor has a LIMIT it is one long transaction.
func (l *linter) delete(s *ast.DeleteStmt) {
	l.classify(lint.ClassAdditive)
	t := dmlTable(s.TableRefs)
	if t == nil || l.created[fold(tableKey(t))] || s.Limit != nil || bounded(s.Where) {
		return
	}
	rewrite := ""
	if !s.IsMultiTable {
		s.Limit = &ast.Limit{Count: ast.NewValueExpr(batchSize, "", "")}
		rewrite = "-- delete in batches; repeat until it deletes no row\n" + terminate(restore(s))
	}
	if s.Where == nil {
		l.finding(lint.Finding{Rule: "delete-without-where", Severity: lint.Error, Class: lint.ClassDataLoss, Table: tableKey(t),
			Message: fmt.Sprintf("DELETE without WHERE removes every row of %s in one transaction", tableKey(t)),
			Effect:  lint.Effect{Lock: "a lock on every row", Duration: "until the transaction commits", Work: lint.WorkDelete},
			Rewrite: rewrite})
		return
	}
	l.unbatched("DELETE", tableKey(t), rewrite)
}

// update: like delete; the batched form skips rows that already hold the
// new values, so repeating it terminates.
func (l *linter) update(s *ast.UpdateStmt) {
	l.classify(lint.ClassAdditive)
	t := dmlTable(s.TableRefs)
	if t == nil || l.created[fold(tableKey(t))] || s.Limit != nil || bounded(s.Where) {
		return
	}
	noWhere := s.Where == nil
	rewrite := ""
	if !s.MultipleTable {
		s.Where = andExpr(s.Where, guard(s.List))
		s.Limit = &ast.Limit{Count: ast.NewValueExpr(batchSize, "", "")}
		rewrite = "-- update in batches; repeat until it updates no row\n" + terminate(restore(s))
	}
	if noWhere {
		l.finding(lint.Finding{Rule: "update-without-where", Severity: lint.Warning, Class: lint.ClassDML, Table: tableKey(t), SizeDependent: true,
			Message: fmt.Sprintf("UPDATE without WHERE rewrites every row of %s in one transaction, locking each until it commits", tableKey(t)),
			Effect:  lint.Effect{Lock: "a lock on every row", Duration: "until the transaction commits", Work: lint.WorkDML},
			Rewrite: rewrite})
		return
	}
	l.unbatched("UPDATE", tableKey(t), rewrite)
}

func (l *linter) unbatched(verb, t, rewrite string) {
	l.finding(lint.Finding{Rule: "unbatched-dml", Severity: lint.Warning, Class: lint.ClassDML, Table: t, SizeDependent: true,
		Message: fmt.Sprintf("%s of %s is not batched: it has no LIMIT and its WHERE neither picks rows by key nor bounds a range, so one transaction may lock most of the table", verb, t),
		Effect:  lint.Effect{Lock: "a lock on every matching row", Duration: "until the transaction commits", Work: lint.WorkDML},
		Rewrite: rewrite})
}

func dmlTable(refs *ast.TableRefsClause) *ast.TableName {
	if refs == nil || refs.TableRefs == nil {
		return nil
	}
	if ts, ok := refs.TableRefs.Left.(*ast.TableSource); ok {
		if tn, ok := ts.Source.(*ast.TableName); ok {
			return tn
		}
	}
	return nil
}
