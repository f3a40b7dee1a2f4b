package mysql

import (
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/hotswap-db/hotswap/internal/lint"
)

// touches lists the tables and indexes statement i (0-based) touches, for
// the look-up in the live catalog. Names are as written (MySQL on Linux
// tells table names apart by case); a database-qualified name's schema is
// the database. An index's name belongs to its table, so every index
// object names its table.
func touches(i int, n ast.StmtNode) []lint.Object {
	t := &touchList{stmt: i + 1}
	switch s := n.(type) {
	case *ast.CreateTableStmt:
		t.table(s.Table, lint.ActionCreate, s.IfNotExists)
	case *ast.CreateIndexStmt:
		t.table(s.Table, lint.ActionAlter, false)
		t.index(s.Table, s.IndexName, lint.ActionCreate, s.IfNotExists, s.KeyType == ast.IndexKeyTypeUnique, s.IndexPartSpecifications)
	case *ast.DropIndexStmt:
		t.index(s.Table, s.IndexName, lint.ActionDrop, s.IfExists, false, nil)
	case *ast.AlterTableStmt:
		t.alter(s)
	case *ast.DropTableStmt:
		if s.IsView {
			break
		}
		for _, tn := range s.Tables {
			t.table(tn, lint.ActionDrop, s.IfExists)
		}
	case *ast.RenameTableStmt:
		for _, tt := range s.TableToTables {
			t.table(tt.OldTable, lint.ActionAlter, false)
			t.table(tt.NewTable, lint.ActionCreate, false)
		}
	case *ast.TruncateTableStmt:
		t.table(s.Table, lint.ActionWrite, false)
	case *ast.InsertStmt:
		t.table(dmlTable(s.Table), lint.ActionWrite, false)
	case *ast.UpdateStmt:
		t.table(dmlTable(s.TableRefs), lint.ActionWrite, false)
	case *ast.DeleteStmt:
		t.table(dmlTable(s.TableRefs), lint.ActionWrite, false)
	case *ast.OptimizeTableStmt:
		for _, tn := range s.Tables {
			t.table(tn, lint.ActionAlter, false)
		}
	}
	return t.out
}

// touchList gathers the objects of one statement.
type touchList struct {
	stmt int
	out  []lint.Object
}

func (t *touchList) table(tn *ast.TableName, act lint.Action, optional bool) {
	if tn == nil || tn.Name.O == "" {
		return
	}
	t.out = append(t.out, lint.Object{Kind: lint.ObjectTable, Name: writtenName(tn), Action: act, Optional: optional, Statement: t.stmt})
}

func (t *touchList) index(tn *ast.TableName, name string, act lint.Action, optional, unique bool, keys []*ast.IndexPartSpecification) {
	o := lint.Object{Kind: lint.ObjectIndex, Table: writtenName(tn), Action: act, Optional: optional, Unique: unique,
		Columns: keyColumns(keys), Statement: t.stmt}
	if name != "" {
		o.Name = qualify(tn, name)
	}
	t.out = append(t.out, o)
}

// alter lists the table an ALTER TABLE changes, then the indexes its parts
// add, drop or rename and the name a RENAME TO takes.
func (t *touchList) alter(s *ast.AlterTableStmt) {
	t.table(s.Table, lint.ActionAlter, false)
	for _, sp := range s.Specs {
		switch sp.Tp {
		case ast.AlterTableAddConstraint:
			c := sp.Constraint
			if c == nil || !isIndex(c.Tp) {
				continue
			}
			unique := c.Tp == ast.ConstraintUniq || c.Tp == ast.ConstraintUniqKey || c.Tp == ast.ConstraintUniqIndex || c.Tp == ast.ConstraintPrimaryKey
			name := c.Name
			if c.Tp == ast.ConstraintPrimaryKey {
				name = "PRIMARY"
			}
			t.index(s.Table, name, lint.ActionCreate, c.IfNotExists, unique, c.Keys)
		case ast.AlterTableDropIndex:
			t.index(s.Table, sp.Name, lint.ActionDrop, sp.IfExists, false, nil)
		case ast.AlterTableDropPrimaryKey:
			t.index(s.Table, "PRIMARY", lint.ActionDrop, false, false, nil)
		case ast.AlterTableRenameIndex:
			t.index(s.Table, sp.FromKey.O, lint.ActionAlter, false, false, nil)
			t.index(s.Table, sp.ToKey.O, lint.ActionCreate, false, false, nil)
		case ast.AlterTableRenameTable:
			t.table(sp.NewTable, lint.ActionCreate, false)
		}
	}
}

func isIndex(tp ast.ConstraintType) bool {
	switch tp {
	case ast.ConstraintPrimaryKey, ast.ConstraintKey, ast.ConstraintIndex, ast.ConstraintUniq, ast.ConstraintUniqKey,
		ast.ConstraintUniqIndex, ast.ConstraintFulltext:
		return true
	}
	return false
}

// writtenName is a table's name as written, "db.table" or "table".
func writtenName(tn *ast.TableName) string {
	if tn == nil {
		return ""
	}
	if tn.Schema.O == "" {
		return tn.Name.O
	}
	return tn.Schema.O + "." + tn.Name.O
}

// qualify gives an index the database of its table, as PostgreSQL's
// index names carry their schema.
func qualify(tn *ast.TableName, name string) string {
	if tn == nil || tn.Schema.O == "" {
		return name
	}
	return tn.Schema.O + "." + name
}

// keyColumns are an index's key parts as the catalog lists them: a column
// name, with its prefix length as "col(10)", or an expression.
func keyColumns(keys []*ast.IndexPartSpecification) []string {
	var out []string
	for _, k := range keys {
		switch {
		case k.Column != nil:
			c := k.Column.Name.O
			if k.Length > 0 {
				c += "(" + strconv.Itoa(k.Length) + ")"
			}
			out = append(out, c)
		case k.Expr != nil:
			out = append(out, strings.ReplaceAll(restore(k.Expr), "`", ""))
		}
	}
	return out
}
