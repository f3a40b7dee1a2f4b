package mysql

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	pmysql "github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/types"

	"github.com/hotswap-db/hotswap/internal/lint"
)

// addColumns: INSTANT when the server can add the column where it is put;
// AUTO_INCREMENT and STORED columns, and inline keys, rebuild or copy.
func (l *linter) addColumns(st *alterState, sp *ast.AlterTableSpec) verdict {
	v := verdict{work: lint.WorkNone, instant: true}
	positioned := sp.Position != nil && sp.Position.Tp != ast.ColumnPositionNone
	for _, col := range sp.NewColumns {
		name := col.Name.Name.O
		for _, o := range col.Options {
			switch {
			case o.Tp == ast.ColumnOptionAutoIncrement:
				l.finding(lint.Finding{Rule: "mysql-add-auto-increment", Severity: lint.Warning, Class: lint.ClassRewrite, Table: st.table, SizeDependent: true,
					Message: fmt.Sprintf("adding AUTO_INCREMENT column %s rebuilds %s without concurrent writes", name, st.table),
					Effect:  lint.Effect{Lock: "shared metadata lock: reads only", Duration: "until the rebuild ends", Work: lint.WorkRebuild}})
				return verdict{work: lint.WorkRebuild, blocks: true, hazard: true}
			case o.Tp == ast.ColumnOptionGenerated && o.Stored:
				l.finding(lint.Finding{Rule: "mysql-add-stored-generated", Severity: lint.Warning, Class: lint.ClassRewrite, Table: st.table, SizeDependent: true,
					Message: fmt.Sprintf("adding STORED generated column %s copies %s with ALGORITHM=COPY; a VIRTUAL one is INSTANT", name, st.table),
					Effect:  lint.Effect{Lock: "shared metadata lock: reads only", Duration: "until the copy ends", Work: lint.WorkCopy}})
				o.Stored = false
				return verdict{work: lint.WorkNone, instant: true, hazard: true, fixed: true}
			case o.Tp == ast.ColumnOptionPrimaryKey, o.Tp == ast.ColumnOptionUniqKey:
				v.instant = false
				if o.Tp == ast.ColumnOptionPrimaryKey {
					return l.rebuild(st, fmt.Sprintf("adding column %s as the primary key rebuilds the table", name))
				}
			}
		}
	}
	switch {
	case !instantAddLast(l.target):
		return l.rebuild(st, fmt.Sprintf("ADD COLUMN rebuilds the table on %s (INSTANT ADD COLUMN needs MySQL 8.0.12 or MariaDB 10.3.2)", l.target))
	case positioned && !instantAddAnywhere(l.target):
		l.rebuild(st, fmt.Sprintf("ADD COLUMN with FIRST/AFTER rebuilds the table on %s (INSTANT anywhere needs MySQL 8.0.29 or MariaDB 10.4); add it last instead", l.target))
		sp.Position = &ast.ColumnPosition{Tp: ast.ColumnPositionNone}
		return verdict{work: lint.WorkNone, instant: v.instant, hazard: true, fixed: true}
	}
	return v
}

// changeColumn: MODIFY/CHANGE. A new name is a rename; a new type, a new
// character set or a reordered ENUM copies the table; extending a VARCHAR
// within its length byte and appending ENUM values are in place.
func (l *linter) changeColumn(st *alterState, sp *ast.AlterTableSpec) verdict {
	col := sp.NewColumns[0]
	oldName := col.Name.Name.O
	if sp.OldColumnName != nil {
		oldName = sp.OldColumnName.Name.O
	}
	old := l.oldType(st.table, oldName)
	if !strings.EqualFold(oldName, col.Name.Name.O) {
		l.renameColumn(st, oldName, col.Name.Name.O, col)
		if old == nil {
			return verdict{work: lint.WorkNone, instant: instantRename(l.target)}
		}
	}
	v := l.typeChange(st, col, old)
	if sp.Position != nil && sp.Position.Tp != ast.ColumnPositionNone && !instantAddAnywhere(l.target) && v.work == lint.WorkNone {
		return l.rebuild(st, "reordering a column with FIRST/AFTER rebuilds the table on "+l.target.String())
	}
	return v
}

func (l *linter) typeChange(st *alterState, col *ast.ColumnDef, old *types.FieldType) verdict {
	nt := col.Tp
	name := col.Name.Name.O
	charset := nt.GetCharset() != "" || slices.ContainsFunc(col.Options, func(o *ast.ColumnOption) bool { return o.Tp == ast.ColumnOptionCollate })
	if old == nil {
		switch {
		case charset:
			return l.copyTable(st, "mysql-charset-change", lint.ClassRewrite, fmt.Sprintf("changing the character set or collation of %s copies the table with ALGORITHM=COPY: writes are blocked until the copy ends", name))
		case stringType(nt.GetType()) || enumType(nt.GetType()):
			l.finding(lint.Finding{Rule: "column-type-unverified", Severity: lint.Info, Class: lint.ClassNone, Table: st.table,
				Message: fmt.Sprintf("changing %s to %s is in place only if it extends a VARCHAR within the same length byte (under 256 bytes, or from 256 up) or appends ENUM/SET values at the end; anything else copies the table", name, nt.String())})
			return verdict{work: lint.WorkNone}
		}
		return l.copyTable(st, "mysql-column-type-change", lint.ClassTypeChange, fmt.Sprintf("changing the data type of %s to %s copies the table with ALGORITHM=COPY: writes are blocked until the copy ends", name, nt.String()))
	}
	switch {
	case charset && !strings.EqualFold(nt.GetCharset(), old.GetCharset()) && nt.GetCharset() != "":
		return l.copyTable(st, "mysql-charset-change", lint.ClassRewrite, fmt.Sprintf("changing the character set of %s copies the table with ALGORITHM=COPY", name))
	case enumType(nt.GetType()) && nt.GetType() == old.GetType():
		if isPrefix(old.GetElems(), nt.GetElems()) {
			return verdict{work: lint.WorkNone, instant: true}
		}
		return l.copyTable(st, "mysql-enum-reorder", lint.ClassRewrite, fmt.Sprintf("reordering or removing values of %s %s rewrites every row with ALGORITHM=COPY; only appending at the end is INSTANT", old.String(), name))
	case nt.GetType() == old.GetType() && stringType(nt.GetType()):
		ob, nb := old.GetFlen()*charLen(old.GetCharset()), nt.GetFlen()*charLen(old.GetCharset())
		if nt.GetFlen() >= old.GetFlen() && (ob >= 256 || nb < 256) {
			return verdict{work: lint.WorkNone}
		}
		return l.copyTable(st, "mysql-column-type-change", lint.ClassTypeChange, fmt.Sprintf("changing %s from %s to %s crosses the 255-byte length boundary or shrinks it: ALGORITHM=COPY", name, old.String(), nt.String()))
	case nt.GetType() == old.GetType() && nt.GetFlen() == old.GetFlen() && nt.GetDecimal() == old.GetDecimal():
		return verdict{work: lint.WorkNone, instant: true}
	}
	return l.copyTable(st, "mysql-column-type-change", lint.ClassTypeChange, fmt.Sprintf("changing %s from %s to %s copies the table with ALGORITHM=COPY: writes are blocked until the copy ends", name, old.String(), nt.String()))
}

func isPrefix(old, new []string) bool {
	return len(new) >= len(old) && slices.Equal(old, new[:len(old)])
}

func stringType(tp byte) bool { return tp == pmysql.TypeVarchar || tp == pmysql.TypeVarString }

func enumType(tp byte) bool { return tp == pmysql.TypeEnum || tp == pmysql.TypeSet }

// charLen is the bytes per character of a character set (4 when unknown).
func charLen(cs string) int {
	switch strings.ToLower(cs) {
	case "latin1", "ascii", "binary":
		return 1
	case "utf8", "utf8mb3":
		return 3
	}
	return 4
}

// oldType asks the catalog for a column's current type.
func (l *linter) oldType(table, col string) *types.FieldType {
	if l.catalog == nil {
		return nil
	}
	schema, name := lint.SplitName(table)
	info, ok := l.catalog.Table(schema, name)
	typ := info.Columns[col]
	if typ == "" {
		typ = info.Columns[strings.ToLower(col)] // column names compare without case
	}
	if !ok || typ == "" {
		return nil
	}
	stmt, err := parser.New().ParseOneStmt("CREATE TABLE x (c "+typ+")", "", "")
	if err != nil {
		return nil
	}
	return stmt.(*ast.CreateTableStmt).Cols[0].Tp
}

// renameColumn: releases still using the old name break.
func (l *linter) renameColumn(st *alterState, old, new string, def *ast.ColumnDef) {
	rewrite := fmt.Sprintf("-- expand: add %s next to %s, keep them in step, backfill; drop %s in a later release\n-- ALTER TABLE %s ADD COLUMN %s <the type of %s>, ALGORITHM=INSTANT;", new, old, old, st.table, new, old)
	if def != nil {
		t := quote(st.stmt.Table.Name.O)
		rewrite = strings.Join([]string{
			fmt.Sprintf("-- expand: add %s next to %s, keep them in step, backfill; drop %s in a later release", new, old, old),
			fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s, ALGORITHM=INSTANT;", t, quote(new), def.Tp.String()),
			"-- keep them in step while releases move over:",
			fmt.Sprintf("-- CREATE TRIGGER %s BEFORE INSERT ON %s FOR EACH ROW SET NEW.%s = NEW.%s;", quote(truncName(st.stmt.Table.Name.O+"_"+new+"_ins")), t, quote(new), quote(old)),
			fmt.Sprintf("-- CREATE TRIGGER %s BEFORE UPDATE ON %s FOR EACH ROW SET NEW.%s = NEW.%s;", quote(truncName(st.stmt.Table.Name.O+"_"+new+"_upd")), t, quote(new), quote(old)),
			"-- backfill in batches; repeat until it updates no row",
			fmt.Sprintf("UPDATE %s SET %s = %s WHERE %s IS NULL AND %s IS NOT NULL LIMIT %d;", t, quote(new), quote(old), quote(new), quote(old), batchSize),
		}, "\n")
	}
	l.finding(lint.Finding{Rule: "renaming-column", Severity: lint.Warning, Class: lint.ClassRename, Table: st.table,
		Message: fmt.Sprintf("renaming column %s.%s to %s breaks every query and release that still uses the old name", st.table, old, new),
		Effect:  lint.Effect{Lock: "exclusive metadata lock", Duration: "brief", Work: lint.WorkNone},
		Rewrite: rewrite})
}

func truncName(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}

func quote(name string) string { return "`" + strings.ReplaceAll(name, "`", "``") + "`" }
