package postgres

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/hotswap-db/hotswap/internal/lint"
)

// textTypes can be widened, or turned into one another, without a rewrite.
var textTypes = map[string]bool{"varchar": true, "text": true}

// alterType: a type change rewrites the table and every index on it under
// ACCESS EXCLUSIVE, except the binary-coercible ones (varchar widening,
// varchar to text, numeric precision increases).
func (l *linter) alterType(rel *pg.RangeVar, col string, def *pg.ColumnDef) cmdResult {
	newT := def.TypeName
	if def.RawDefault == nil {
		if old, ok := l.columnType(rel, col); ok {
			if coercible(old, newT) {
				l.classify(lint.ClassMetadata)
				return cmdResult{strong: true}
			}
		} else if textTypes[typeName(newT)] || typeName(newT) == "numeric" {
			l.classify(lint.ClassMetadata)
			l.finding(lint.Finding{Rule: "column-type-unverified", Severity: lint.Info, Class: lint.ClassMetadata, Table: key(rel),
				Message: fmt.Sprintf("changing %s.%s to %s is catalog-only only when it widens the current type (varchar(n) to a longer varchar or text, numeric to a higher precision); otherwise it rewrites the table", key(rel), col, typeSQL(newT))})
			return cmdResult{strong: true}
		}
	}
	l.classify(lint.ClassTypeChange)
	l.finding(lint.Finding{Rule: "changing-column-type", Severity: lint.Warning, Class: lint.ClassTypeChange,
		Message: fmt.Sprintf("changing %s.%s to %s rewrites the table and its indexes under ACCESS EXCLUSIVE: no reads or writes until it ends", key(rel), col, typeSQL(newT)),
		Effect:  lint.Effect{Lock: "ACCESS EXCLUSIVE", Duration: "until the table and its indexes are rewritten", Work: lint.WorkRewrite},
		Table:   key(rel), SizeDependent: true})
	return cmdResult{replace: expandColumn(rel, col, truncName(col+"_new"), def), strong: true, long: true}
}

// columnType asks the catalog for a column's current type.
func (l *linter) columnType(rel *pg.RangeVar, col string) (*pg.TypeName, bool) {
	if l.catalog == nil {
		return nil, false
	}
	info, ok := l.catalog.Table(rel.Schemaname, rel.Relname)
	if !ok || info.Columns[col] == "" {
		return nil, false
	}
	tree, err := pg.Parse("SELECT NULL::" + info.Columns[col])
	if err != nil || len(tree.Stmts) != 1 {
		return nil, false
	}
	tc := tree.Stmts[0].Stmt.GetSelectStmt().GetTargetList()[0].GetResTarget().GetVal().GetTypeCast()
	return tc.GetTypeName(), tc != nil
}

// coercible reports whether old converts to new without a rewrite.
func coercible(old, new *pg.TypeName) bool {
	o, n := typeName(old), typeName(new)
	om, nm := typmods(old), typmods(new)
	switch {
	case o == n && equalInts(om, nm):
		return true
	case textTypes[o] && n == "text":
		return true
	case o == "varchar" && n == "varchar":
		return len(nm) == 0 || (len(om) == 1 && nm[0] >= om[0])
	case o == "text" && n == "varchar":
		return len(nm) == 0
	case o == "numeric" && n == "numeric":
		return len(nm) == 0 || (len(om) == 2 && len(nm) == 2 && nm[1] == om[1] && nm[0] >= om[0])
	}
	return false
}

func typmods(t *pg.TypeName) []int32 {
	var out []int32
	for _, m := range t.Typmods {
		if c := m.GetAConst(); c != nil {
			out = append(out, c.GetIval().GetIval())
		}
	}
	return out
}

func equalInts(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// expandColumn is the expand half of expand/contract: a new column kept in
// step with the old one by a trigger and backfilled in batches, so
// releases can move to it before the old one is dropped. def is the new
// column's type (nil: the old column's own type, looked up at run time).
func expandColumn(rel *pg.RangeVar, old, new string, def *pg.ColumnDef) string {
	t, o, n := qname(rel), quoteIdent(old), quoteIdent(new)
	value := "NEW." + o
	set := o
	var add string
	if def == nil {
		add = fmt.Sprintf("DO $$ BEGIN EXECUTE format('ALTER TABLE %%s ADD COLUMN %%I %%s', %s::regclass, %s, (SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = %s::regclass AND attname = %s)); END $$;",
			literal(t), literal(new), literal(t), literal(old))
	} else {
		ty := typeSQL(def.TypeName)
		add = fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s;", t, n, ty)
		value = fmt.Sprintf("CAST(NEW.%s AS %s)", o, ty)
		set = fmt.Sprintf("CAST(%s AS %s)", o, ty)
		if def.RawDefault != nil {
			add = "-- the old statement converted with USING " + strings.ReplaceAll(exprSQL(def.RawDefault), "\n", " ") + "; use that expression below\n" + add
		}
	}
	fn := truncName(rel.Relname + "_" + new + "_sync")
	qfn := quoteIdent(fn)
	if rel.Schemaname != "" {
		qfn = quoteIdent(rel.Schemaname) + "." + qfn
	}
	return strings.Join([]string{
		"-- expand: add the new column, keep it in step with the old one, backfill it; switch releases to it,",
		"-- then drop the old column in a later migration",
		add,
		fmt.Sprintf("CREATE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.%s := %s; RETURN NEW; END $$;", qfn, n, value),
		fmt.Sprintf("CREATE TRIGGER %s BEFORE INSERT OR UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION %s();", quoteIdent(fn), t, qfn),
		"-- backfill in batches; repeat until it updates no row",
		fmt.Sprintf("UPDATE %s SET %s = %s WHERE ctid = ANY (ARRAY(SELECT ctid FROM %s WHERE %s IS DISTINCT FROM %s LIMIT %d));", t, n, set, t, n, set, batchSize),
	}, "\n")
}
