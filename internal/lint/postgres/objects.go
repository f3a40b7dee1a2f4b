package postgres

import (
	"fmt"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"

	"github.com/hotswap-db/hotswap/internal/lint"
)

// createIndex: a build without CONCURRENTLY blocks writes to an existing
// table until it ends; CONCURRENTLY cannot run in a transaction block.
func (l *linter) createIndex(s *pg.IndexStmt) impact {
	if s.Idxname != "" {
		l.indexes[indexKey(s.Relation.Schemaname, s.Idxname)] = key(s.Relation)
	}
	l.classify(lint.ClassAdditive)
	if s.Concurrent {
		l.notInTransaction("CREATE INDEX CONCURRENTLY")
		return impact{}
	}
	if l.isNew(s.Relation) {
		return impact{}
	}
	fixed := proto.Clone(s).(*pg.IndexStmt)
	fixed.Concurrent = true
	l.finding(lint.Finding{Rule: "require-concurrent-index-creation", Severity: lint.Warning, Class: lint.ClassBlocking,
		Message: fmt.Sprintf("CREATE INDEX without CONCURRENTLY blocks every write to %s until the build ends", key(s.Relation)),
		Effect:  lint.Effect{Lock: "SHARE", Duration: "until the index is built", Work: lint.WorkBuild},
		Table:   key(s.Relation), SizeDependent: true,
		Rewrite: l.outside(terminate(deparse(&pg.Node{Node: &pg.Node_IndexStmt{IndexStmt: fixed}}))),
	})
	return impact{strong: &hold{table: key(s.Relation), lock: "SHARE"}, long: true}
}

func indexKey(schema, name string) string {
	if schema == "" || schema == "public" {
		return name
	}
	return schema + "." + name
}

// notInTransaction flags a CONCURRENTLY statement inside BEGIN ... COMMIT.
func (l *linter) notInTransaction(what string) {
	if l.txn == nil {
		return
	}
	l.classify(lint.ClassFailure)
	l.finding(lint.Finding{Rule: "concurrently-in-transaction", Severity: lint.Error, Class: lint.ClassFailure,
		Message: what + " cannot run inside a transaction block: the statement fails and the transaction is rolled back",
		Effect:  lint.Effect{Work: lint.WorkNone},
		Rewrite: l.outside(l.sql()),
	})
}

// drop: tables and schemas lose data; indexes need CONCURRENTLY.
func (l *linter) drop(s *pg.DropStmt) impact {
	switch s.RemoveType {
	case pg.ObjectType_OBJECT_TABLE:
		for _, o := range s.Objects {
			name := listName(o)
			if l.created[name] {
				delete(l.created, name)
				continue
			}
			l.dataLoss("ban-drop-table", fmt.Sprintf("DROP TABLE %s deletes the table and all its rows", name), name)
			return impact{}
		}
		l.classify(lint.ClassAdditive)
	case pg.ObjectType_OBJECT_SCHEMA:
		for _, o := range s.Objects {
			if name := o.GetString_().GetSval(); !l.created[name] {
				l.dataLoss("ban-drop-schema", fmt.Sprintf("DROP SCHEMA %s deletes the schema and, with CASCADE, every table in it", name), "")
				return impact{}
			}
		}
	case pg.ObjectType_OBJECT_INDEX:
		return l.dropIndex(s)
	default:
		l.classify(lint.ClassMetadata)
	}
	return impact{}
}

// listName is the key of a dropped object given as a list of names.
func listName(o *pg.Node) string {
	items := o.GetList().GetItems()
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0].GetString_().GetSval()
	}
	schema, name := items[len(items)-2].GetString_().GetSval(), items[len(items)-1].GetString_().GetSval()
	return indexKey(schema, name)
}

func (l *linter) dropIndex(s *pg.DropStmt) impact {
	l.classify(lint.ClassMetadata)
	if s.Concurrent {
		l.notInTransaction("DROP INDEX CONCURRENTLY")
		return impact{}
	}
	for _, o := range s.Objects {
		if _, ok := l.indexes[listName(o)]; !ok {
			return l.dropIndexBlocking(s)
		}
	}
	return impact{}
}

func (l *linter) dropIndexBlocking(s *pg.DropStmt) impact {
	var rewrite string
	for _, o := range s.Objects {
		one := &pg.DropStmt{Objects: []*pg.Node{o}, RemoveType: s.RemoveType, MissingOk: s.MissingOk, Concurrent: true}
		rewrite += terminate(deparse(&pg.Node{Node: &pg.Node_DropStmt{DropStmt: one}})) + "\n"
	}
	l.classify(lint.ClassBlocking)
	l.finding(lint.Finding{Rule: "require-concurrent-index-deletion", Severity: lint.Warning, Class: lint.ClassBlocking,
		Message: "DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE on the index's table: reads and writes queue behind it",
		Effect:  lint.Effect{Lock: "ACCESS EXCLUSIVE", Duration: "brief once granted, but everything queues behind it while it waits", Work: lint.WorkNone},
		Rewrite: l.outside(rewrite[:len(rewrite)-1]),
	})
	return impact{strong: &hold{table: "the indexed table", lock: "ACCESS EXCLUSIVE"}}
}

// rename: renaming a table or a column in use breaks every query that
// still uses the old name.
func (l *linter) rename(s *pg.RenameStmt) impact {
	switch s.RenameType {
	case pg.ObjectType_OBJECT_TABLE:
		old := key(s.Relation)
		if l.created[old] {
			l.created[indexKey(s.Relation.Schemaname, s.Newname)] = true
			l.classify(lint.ClassAdditive)
			return impact{}
		}
		l.renaming("renaming-table", fmt.Sprintf("renaming table %s to %s breaks every query and release that still uses the old name", old, s.Newname),
			old, renameTableRewrite(s))
	case pg.ObjectType_OBJECT_COLUMN:
		if l.isNew(s.Relation) {
			l.classify(lint.ClassAdditive)
			return impact{}
		}
		l.renaming("renaming-column", fmt.Sprintf("renaming column %s.%s to %s breaks every query and release that still uses the old name", key(s.Relation), s.Subname, s.Newname),
			key(s.Relation), expandColumn(s.Relation, s.Subname, s.Newname, nil))
	default:
		l.classify(lint.ClassMetadata)
		return impact{}
	}
	return impact{strong: &hold{table: key(s.Relation), lock: "ACCESS EXCLUSIVE"}}
}

func (l *linter) renaming(rule, msg, table, rewrite string) {
	l.classify(lint.ClassRename)
	l.finding(lint.Finding{Rule: rule, Severity: lint.Warning, Class: lint.ClassRename, Message: msg, Table: table,
		Effect:  lint.Effect{Lock: "ACCESS EXCLUSIVE", Duration: "brief", Work: lint.WorkNone},
		Rewrite: rewrite})
}

// renameTableRewrite gives the new name as a view over the table, so both
// names work until the last release using the old one is gone.
func renameTableRewrite(s *pg.RenameStmt) string {
	schema := ""
	if s.Relation.Schemaname != "" {
		schema = quoteIdent(s.Relation.Schemaname) + "."
	}
	return fmt.Sprintf("-- expose the new name as an updatable view; rename the table once no release uses the old name\nCREATE VIEW %s%s AS SELECT * FROM %s;",
		schema, quoteIdent(s.Newname), qname(s.Relation))
}

// truncate loses every row of the existing tables it names.
func (l *linter) truncate(s *pg.TruncateStmt) impact {
	for _, r := range s.Relations {
		if rv := r.GetRangeVar(); rv != nil && !l.isNew(rv) {
			l.dataLoss("ban-truncate", fmt.Sprintf("TRUNCATE deletes every row of %s", key(rv)), key(rv))
			return impact{strong: &hold{table: key(rv), lock: "ACCESS EXCLUSIVE"}}
		}
	}
	l.classify(lint.ClassAdditive)
	return impact{}
}

// reindex without CONCURRENTLY blocks writes (and reads using the index).
func (l *linter) reindex(s *pg.ReindexStmt) impact {
	l.classify(lint.ClassMetadata)
	for _, p := range s.Params {
		if p.GetDefElem().GetDefname() == "concurrently" {
			l.notInTransaction("REINDEX CONCURRENTLY")
			return impact{}
		}
	}
	if s.Kind == pg.ReindexObjectType_REINDEX_OBJECT_SYSTEM || (s.Relation != nil && l.isNew(s.Relation)) || !l.target.AtLeast(12, 0, 0) {
		return impact{}
	}
	fixed := proto.Clone(s).(*pg.ReindexStmt)
	fixed.Params = append(fixed.Params, &pg.Node{Node: &pg.Node_DefElem{DefElem: &pg.DefElem{Defname: "concurrently"}}})
	l.classify(lint.ClassBlocking)
	l.finding(lint.Finding{Rule: "reindex-without-concurrently", Severity: lint.Warning, Class: lint.ClassBlocking,
		Message: "REINDEX without CONCURRENTLY blocks writes to the table, and reads that use the index, until it ends",
		Effect:  lint.Effect{Lock: "SHARE (ACCESS EXCLUSIVE on the index)", Duration: "until the rebuild ends", Work: lint.WorkBuild},
		Table:   key(s.Relation), SizeDependent: s.Relation != nil,
		Rewrite: l.outside(terminate(deparse(&pg.Node{Node: &pg.Node_ReindexStmt{ReindexStmt: fixed}}))),
	})
	return impact{strong: &hold{table: key(s.Relation), lock: "SHARE"}, long: true}
}

// vacuum: FULL rewrites every table under ACCESS EXCLUSIVE; no VACUUM runs
// in a transaction block.
func (l *linter) vacuum(s *pg.VacuumStmt) impact {
	l.classify(lint.ClassNone)
	if l.txn != nil && s.IsVacuumcmd {
		l.classify(lint.ClassFailure)
		l.finding(lint.Finding{Rule: "vacuum-in-transaction", Severity: lint.Error, Class: lint.ClassFailure,
			Message: "VACUUM cannot run inside a transaction block", Rewrite: l.outside(l.sql())})
	}
	full := false
	var rest []*pg.Node
	for _, o := range s.Options {
		if o.GetDefElem().GetDefname() == "full" {
			full = true
			continue
		}
		rest = append(rest, o)
	}
	if !full {
		return impact{}
	}
	fixed := proto.Clone(s).(*pg.VacuumStmt)
	fixed.Options = rest
	l.classify(lint.ClassRewrite)
	l.finding(lint.Finding{Rule: "vacuum-full", Severity: lint.Warning, Class: lint.ClassRewrite,
		Message: "VACUUM FULL rewrites the table under ACCESS EXCLUSIVE: no reads or writes until it ends",
		Effect:  lint.Effect{Lock: "ACCESS EXCLUSIVE", Duration: "until the copy ends", Work: lint.WorkRewrite},
		Table:   relsName(s.Rels), SizeDependent: len(s.Rels) > 0,
		Rewrite: "-- a plain VACUUM frees space for reuse without a lock; to give it back online use pg_repack\n" +
			l.outside(terminate(deparse(&pg.Node{Node: &pg.Node_VacuumStmt{VacuumStmt: fixed}}))),
	})
	return impact{}
}

func relsName(rels []*pg.Node) string {
	if len(rels) == 0 {
		return ""
	}
	return key(rels[0].GetVacuumRelation().GetRelation())
}

// cluster rewrites the table in index order under ACCESS EXCLUSIVE.
func (l *linter) cluster(s *pg.ClusterStmt) impact {
	if s.Relation != nil && l.isNew(s.Relation) {
		return impact{}
	}
	l.classify(lint.ClassRewrite)
	name := key(s.Relation)
	l.finding(lint.Finding{Rule: "cluster", Severity: lint.Warning, Class: lint.ClassRewrite,
		Message: "CLUSTER rewrites the table under ACCESS EXCLUSIVE: no reads or writes until it ends",
		Effect:  lint.Effect{Lock: "ACCESS EXCLUSIVE", Duration: "until the copy ends", Work: lint.WorkRewrite},
		Table:   name, SizeDependent: s.Relation != nil,
		Rewrite: fmt.Sprintf("-- reorder the table online instead, outside the migration:\n-- pg_repack --table=%s --order-by=<index columns> <database>", name),
	})
	return impact{strong: &hold{table: name, lock: "ACCESS EXCLUSIVE"}, long: true}
}

// refresh without CONCURRENTLY blocks reads of the view until it ends.
func (l *linter) refresh(s *pg.RefreshMatViewStmt) impact {
	l.classify(lint.ClassNone)
	if s.Concurrent || s.SkipData || l.isNew(s.Relation) {
		return impact{}
	}
	fixed := proto.Clone(s).(*pg.RefreshMatViewStmt)
	fixed.Concurrent = true
	l.classify(lint.ClassBlocking)
	l.finding(lint.Finding{Rule: "refresh-matview-without-concurrently", Severity: lint.Warning, Class: lint.ClassBlocking,
		Message: fmt.Sprintf("REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks every read of %s until it ends (CONCURRENTLY needs a unique index on the view)", key(s.Relation)),
		Effect:  lint.Effect{Lock: "ACCESS EXCLUSIVE", Duration: "until the refresh ends", Work: lint.WorkRewrite},
		Table:   key(s.Relation), SizeDependent: true,
		Rewrite: terminate(deparse(&pg.Node{Node: &pg.Node_RefreshMatViewStmt{RefreshMatViewStmt: fixed}})),
	})
	return impact{strong: &hold{table: key(s.Relation), lock: "ACCESS EXCLUSIVE"}, long: true}
}

// alterEnum: a value added in a transaction cannot be used before COMMIT
// (before PostgreSQL 12 it cannot be added in one at all).
func (l *linter) alterEnum(s *pg.AlterEnumStmt) {
	l.classify(lint.ClassAdditive)
	if s.NewVal == "" || s.OldVal != "" || l.txn == nil {
		return
	}
	if !l.target.AtLeast(12, 0, 0) {
		l.classify(lint.ClassFailure)
		l.finding(lint.Finding{Rule: "enum-value-in-transaction", Severity: lint.Error, Class: lint.ClassFailure,
			Message: "before PostgreSQL 12, ALTER TYPE ... ADD VALUE cannot run inside a transaction block",
			Rewrite: l.outside(l.sql())})
		return
	}
	l.txn.enumValues[s.NewVal] = l.cur
}

// enumUse flags a statement that uses an enum value added earlier in the
// same, still open, transaction.
func (l *linter) enumUse(n *pg.Node) {
	if _, ok := n.Node.(*pg.Node_AlterEnumStmt); ok || len(l.txn.enumValues) == 0 {
		return
	}
	for _, s := range stringConsts(n) {
		if at, ok := l.txn.enumValues[s]; ok {
			l.classify(lint.ClassFailure)
			l.finding(lint.Finding{Rule: "enum-value-used-in-transaction", Severity: lint.Error, Class: lint.ClassFailure,
				Message: fmt.Sprintf("enum value %s was added by statement %d in the same transaction; it cannot be used before that transaction commits (unsafe use of new value)", literal(s), at+1),
				Rewrite: "COMMIT;\nBEGIN;\n" + l.sql()})
			return
		}
	}
}

// lock: an explicit LOCK TABLE in a transaction holds its lock until COMMIT.
func (l *linter) lock(s *pg.LockStmt) impact {
	l.classify(lint.ClassMetadata)
	const shareMode = 5 // SHARE and stronger block writes
	if s.Mode < shareMode || len(s.Relations) == 0 {
		return impact{}
	}
	rv := s.Relations[0].GetRangeVar()
	if l.isNew(rv) {
		return impact{}
	}
	return impact{strong: &hold{table: key(rv), lock: "an explicit LOCK TABLE"}}
}
