package postgres

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/hotswap-db/hotswap/internal/lint"
)

// touches lists the tables and indexes statement i (0-based) touches, for
// the look-up in the live catalog.
func touches(i int, node *pg.Node) []lint.Object {
	var out []lint.Object
	add := func(kind lint.ObjectKind, rv *pg.RangeVar, act lint.Action, optional bool) {
		if rv != nil && rv.Relname != "" {
			out = append(out, lint.Object{Kind: kind, Name: key(rv), Action: act, Optional: optional, Statement: i + 1})
		}
	}
	switch n := node.Node.(type) {
	case *pg.Node_CreateStmt:
		add(lint.ObjectTable, n.CreateStmt.Relation, lint.ActionCreate, n.CreateStmt.IfNotExists)
	case *pg.Node_CreateTableAsStmt:
		add(lint.ObjectTable, n.CreateTableAsStmt.GetInto().GetRel(), lint.ActionCreate, n.CreateTableAsStmt.IfNotExists)
	case *pg.Node_IndexStmt:
		out = append(out, indexTouches(i, n.IndexStmt)...)
	case *pg.Node_AlterTableStmt:
		kind := lint.ObjectTable
		if n.AlterTableStmt.Objtype == pg.ObjectType_OBJECT_INDEX {
			kind = lint.ObjectIndex
		}
		add(kind, n.AlterTableStmt.Relation, lint.ActionAlter, n.AlterTableStmt.MissingOk)
	case *pg.Node_DropStmt:
		out = append(out, dropTouches(i, n.DropStmt)...)
	case *pg.Node_RenameStmt:
		out = append(out, renameTouches(i, n.RenameStmt)...)
	case *pg.Node_TruncateStmt:
		for _, r := range n.TruncateStmt.Relations {
			add(lint.ObjectTable, r.GetRangeVar(), lint.ActionWrite, false)
		}
	case *pg.Node_InsertStmt:
		add(lint.ObjectTable, n.InsertStmt.Relation, lint.ActionWrite, false)
	case *pg.Node_UpdateStmt:
		add(lint.ObjectTable, n.UpdateStmt.Relation, lint.ActionWrite, false)
	case *pg.Node_DeleteStmt:
		add(lint.ObjectTable, n.DeleteStmt.Relation, lint.ActionWrite, false)
	case *pg.Node_ClusterStmt:
		add(lint.ObjectTable, n.ClusterStmt.Relation, lint.ActionAlter, false)
	case *pg.Node_VacuumStmt:
		for _, r := range n.VacuumStmt.Rels {
			add(lint.ObjectTable, r.GetVacuumRelation().GetRelation(), lint.ActionAlter, false)
		}
	}
	return out
}

func indexTouches(i int, s *pg.IndexStmt) []lint.Object {
	table := key(s.Relation)
	out := []lint.Object{{Kind: lint.ObjectTable, Name: table, Action: lint.ActionAlter, Statement: i + 1}}
	idx := lint.Object{Kind: lint.ObjectIndex, Table: table, Action: lint.ActionCreate, Optional: s.IfNotExists,
		Unique: s.Unique, Statement: i + 1}
	if s.Idxname != "" {
		idx.Name = indexKey(s.Relation.GetSchemaname(), s.Idxname)
	}
	for _, p := range s.IndexParams {
		el := p.GetIndexElem()
		switch {
		case el == nil:
		case el.Name != "":
			idx.Columns = append(idx.Columns, el.Name)
		case el.Expr != nil:
			idx.Columns = append(idx.Columns, exprSQL(el.Expr))
		}
	}
	return append(out, idx)
}

func dropTouches(i int, s *pg.DropStmt) []lint.Object {
	var kind lint.ObjectKind
	switch s.RemoveType {
	case pg.ObjectType_OBJECT_TABLE:
		kind = lint.ObjectTable
	case pg.ObjectType_OBJECT_INDEX:
		kind = lint.ObjectIndex
	default:
		return nil
	}
	var out []lint.Object
	for _, o := range s.Objects {
		if name := listName(o); name != "" {
			out = append(out, lint.Object{Kind: kind, Name: name, Action: lint.ActionDrop, Optional: s.MissingOk, Statement: i + 1})
		}
	}
	return out
}

func renameTouches(i int, s *pg.RenameStmt) []lint.Object {
	if s.Relation == nil {
		return nil
	}
	kind := lint.ObjectTable
	if s.RenameType == pg.ObjectType_OBJECT_INDEX {
		kind = lint.ObjectIndex
	}
	out := []lint.Object{{Kind: kind, Name: key(s.Relation), Action: lint.ActionAlter, Optional: s.MissingOk, Statement: i + 1}}
	switch s.RenameType {
	case pg.ObjectType_OBJECT_TABLE, pg.ObjectType_OBJECT_INDEX:
		out = append(out, lint.Object{Kind: kind, Name: indexKey(s.Relation.Schemaname, s.Newname), Action: lint.ActionCreate,
			Statement: i + 1})
	}
	return out
}
