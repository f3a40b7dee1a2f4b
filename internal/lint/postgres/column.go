package postgres

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"

	"github.com/hotswap-db/hotswap/internal/lint"
)

// batchSize is the number of rows each backfill batch of a rewrite touches.
const batchSize = 10000

// newColumn is an ADD COLUMN taken apart.
type newColumn struct {
	def               *pg.ColumnDef
	defaultExpr       *pg.Node
	notNull           bool
	identity, stored  bool
	serial            string // the integer type behind a serial type
	unique, primary   bool
	foreign, checkCon *pg.Constraint
}

var serials = map[string]string{"serial": "int4", "serial4": "int4", "bigserial": "int8", "serial8": "int8", "smallserial": "int2", "serial2": "int2"}

func parseColumn(def *pg.ColumnDef) newColumn {
	nc := newColumn{def: def, notNull: def.IsNotNull, serial: serials[typeName(def.TypeName)]}
	for _, n := range def.Constraints {
		c := n.GetConstraint()
		switch c.GetContype() {
		case pg.ConstrType_CONSTR_NOTNULL:
			nc.notNull = true
		case pg.ConstrType_CONSTR_DEFAULT:
			nc.defaultExpr = c.RawExpr
		case pg.ConstrType_CONSTR_IDENTITY:
			nc.identity = true
		case pg.ConstrType_CONSTR_GENERATED:
			nc.stored = true
			nc.defaultExpr = c.RawExpr
		case pg.ConstrType_CONSTR_PRIMARY:
			nc.primary, nc.notNull = true, true
		case pg.ConstrType_CONSTR_UNIQUE:
			nc.unique = true
		case pg.ConstrType_CONSTR_FOREIGN:
			nc.foreign = c
		case pg.ConstrType_CONSTR_CHECK:
			nc.checkCon = c
		}
	}
	if def.RawDefault != nil {
		nc.defaultExpr = def.RawDefault
	}
	return nc
}

// addColumn: a column whose existing rows need a computed value rewrites
// the table; a required column without a default fails on a table with
// rows; inline keys and constraints build or validate under the lock.
func (l *linter) addColumn(rel *pg.RangeVar, def *pg.ColumnDef, ifNotExists bool) cmdResult {
	l.classify(lint.ClassAdditive)
	nc := parseColumn(def)
	col, t := def.Colname, key(rel)
	before := len(l.findings)
	rewrites := false
	hazard := func(rule string, sev lint.Severity, class lint.Class, msg string, work lint.Work) {
		l.classify(class)
		l.finding(lint.Finding{Rule: rule, Severity: sev, Class: class, Message: msg, Table: t,
			SizeDependent: work != lint.WorkNone,
			Effect:        lint.Effect{Lock: "ACCESS EXCLUSIVE", Duration: durationOf(work), Work: work}})
		rewrites = rewrites || work == lint.WorkRewrite
	}
	switch {
	case nc.serial != "":
		hazard("add-column-serial", lint.Warning, lint.ClassRewrite, fmt.Sprintf("adding serial column %s fills every existing row of %s from a sequence: a full rewrite under ACCESS EXCLUSIVE", col, t), lint.WorkRewrite)
	case nc.identity:
		hazard("add-column-identity", lint.Warning, lint.ClassRewrite, fmt.Sprintf("adding identity column %s fills every existing row of %s: a full rewrite under ACCESS EXCLUSIVE", col, t), lint.WorkRewrite)
	case nc.stored:
		hazard("add-column-stored-generated", lint.Warning, lint.ClassRewrite, fmt.Sprintf("adding STORED generated column %s computes it for every row of %s: a full rewrite under ACCESS EXCLUSIVE", col, t), lint.WorkRewrite)
	case nc.defaultExpr != nil && !l.target.AtLeast(11, 0, 0):
		hazard("add-column-volatile-default", lint.Warning, lint.ClassRewrite, fmt.Sprintf("before PostgreSQL 11 any DEFAULT on ADD COLUMN rewrites all of %s under ACCESS EXCLUSIVE", t), lint.WorkRewrite)
	case nc.defaultExpr != nil && volatile(nc.defaultExpr):
		hazard("add-column-volatile-default", lint.Warning, lint.ClassRewrite, fmt.Sprintf("the volatile DEFAULT %s is computed for every existing row: a full rewrite of %s under ACCESS EXCLUSIVE", exprSQL(nc.defaultExpr), t), lint.WorkRewrite)
	case nc.notNull && nc.defaultExpr == nil:
		hazard("add-column-not-null-without-default", lint.Error, lint.ClassFailure, fmt.Sprintf("ADD COLUMN %s NOT NULL without a DEFAULT fails as soon as %s has a row", col, t), lint.WorkNone)
	}
	if nc.primary || nc.unique {
		hazard("disallowed-unique-constraint", lint.Warning, lint.ClassBlocking, fmt.Sprintf("the inline UNIQUE/PRIMARY KEY on %s builds its index under ACCESS EXCLUSIVE", col), lint.WorkBuild)
	}
	if nc.foreign != nil || nc.checkCon != nil {
		hazard("constraint-missing-not-valid", lint.Warning, lint.ClassBlocking, fmt.Sprintf("the inline REFERENCES/CHECK on %s validates every row of %s under the ALTER's lock", col, t), lint.WorkScan)
	}
	if len(l.findings) == before {
		return cmdResult{strong: true}
	}
	return cmdResult{replace: l.safeAddColumn(rel, nc, ifNotExists), strong: true, long: rewrites}
}

func durationOf(w lint.Work) string {
	switch w {
	case lint.WorkRewrite:
		return "until every row is rewritten"
	case lint.WorkBuild:
		return "until the index is built"
	case lint.WorkScan:
		return "until every row is checked"
	}
	return "brief"
}

// safeAddColumn is the expand form of an ADD COLUMN: a bare nullable
// column, its default for new rows, a batched backfill of the existing
// ones, then NOT NULL, keys and constraints added without long locks.
func (l *linter) safeAddColumn(rel *pg.RangeVar, nc newColumn, ifNotExists bool) string {
	t, c := qname(rel), quoteIdent(nc.def.Colname)
	bare := proto.Clone(nc.def).(*pg.ColumnDef)
	bare.Constraints, bare.RawDefault, bare.IsNotNull = nil, nil, false
	var steps []string
	fill := nc.defaultExpr
	fillSQL := ""
	if nc.serial != "" || nc.identity {
		seq := truncName(rel.Relname + "_" + nc.def.Colname + "_seq")
		qseq := quoteIdent(seq)
		if rel.Schemaname != "" {
			qseq = quoteIdent(rel.Schemaname) + "." + qseq
		}
		if nc.serial != "" {
			bare.TypeName = &pg.TypeName{Names: []*pg.Node{pg.MakeStrNode("pg_catalog"), pg.MakeStrNode(nc.serial)}}
		}
		steps = append(steps, fmt.Sprintf("CREATE SEQUENCE %s;", qseq))
		fillSQL = fmt.Sprintf("nextval(%s)", literal(qseq))
		steps = append(steps, l.addBare(rel, bare, ifNotExists),
			fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s;", t, c, fillSQL),
			fmt.Sprintf("ALTER SEQUENCE %s OWNED BY %s.%s;", qseq, t, c))
	} else {
		steps = append(steps, l.addBare(rel, bare, ifNotExists))
		switch {
		case fill != nil && !nc.stored:
			fillSQL = exprSQL(fill)
			steps = append(steps, fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s;", t, c, fillSQL))
		case fill != nil:
			fillSQL = exprSQL(fill)
			steps = append(steps, "-- keep the column up to date for new rows with a trigger or in the application")
		case nc.notNull:
			fillSQL = zeroValue(nc.def.TypeName)
		}
	}
	if fillSQL != "" {
		steps = append(steps, "-- backfill the existing rows in batches; repeat until it updates no row",
			fmt.Sprintf("UPDATE %s SET %s = %s WHERE ctid = ANY (ARRAY(SELECT ctid FROM %s WHERE %s IS NULL LIMIT %d));", t, c, fillSQL, t, c, batchSize))
	}
	var after []string
	if nc.notNull {
		after = append(after, notNullSteps(rel, nc.def.Colname, true))
	}
	if nc.primary || nc.unique {
		con := &pg.Constraint{Contype: pg.ConstrType_CONSTR_UNIQUE, Keys: []*pg.Node{pg.MakeStrNode(nc.def.Colname)}}
		kind := "UNIQUE"
		if nc.primary {
			con.Contype, kind = pg.ConstrType_CONSTR_PRIMARY, "PRIMARY KEY"
		}
		name := quoteIdent(defaultConname(rel, con))
		after = append(after, fmt.Sprintf("CREATE UNIQUE INDEX CONCURRENTLY %s ON %s (%s);", name, t, c),
			fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s USING INDEX %s;", t, name, kind, name))
	}
	for _, con := range []*pg.Constraint{nc.foreign, nc.checkCon} {
		if con == nil {
			continue
		}
		after = append(after, l.notValidSteps(rel, nc.def.Colname, con))
	}
	all := strings.Join(append(steps, after...), "\n")
	if len(after) > 0 {
		return l.outside(all)
	}
	return all
}

func (l *linter) addBare(rel *pg.RangeVar, bare *pg.ColumnDef, ifNotExists bool) string {
	stmt := &pg.AlterTableStmt{Relation: rel, Objtype: pg.ObjectType_OBJECT_TABLE, Cmds: []*pg.Node{{Node: &pg.Node_AlterTableCmd{
		AlterTableCmd: &pg.AlterTableCmd{Subtype: pg.AlterTableType_AT_AddColumn, MissingOk: ifNotExists, Def: &pg.Node{Node: &pg.Node_ColumnDef{ColumnDef: bare}}}}}}}
	return terminate(deparse(&pg.Node{Node: &pg.Node_AlterTableStmt{AlterTableStmt: stmt}}))
}

// notValidSteps adds an inline column constraint as NOT VALID, then
// validates it.
func (l *linter) notValidSteps(rel *pg.RangeVar, col string, c *pg.Constraint) string {
	fixed := proto.Clone(c).(*pg.Constraint)
	fixed.SkipValidation, fixed.InitiallyValid = true, false
	if fixed.Contype == pg.ConstrType_CONSTR_FOREIGN && len(fixed.FkAttrs) == 0 {
		fixed.FkAttrs = []*pg.Node{pg.MakeStrNode(col)}
	}
	if fixed.Conname == "" {
		fixed.Conname = defaultConname(rel, fixed)
		if fixed.Contype == pg.ConstrType_CONSTR_CHECK {
			fixed.Conname = truncName(rel.Relname + "_" + col + "_check")
		}
	}
	add := &pg.AlterTableStmt{Relation: rel, Objtype: pg.ObjectType_OBJECT_TABLE, Cmds: []*pg.Node{{Node: &pg.Node_AlterTableCmd{
		AlterTableCmd: &pg.AlterTableCmd{Subtype: pg.AlterTableType_AT_AddConstraint, Def: &pg.Node{Node: &pg.Node_Constraint{Constraint: fixed}}}}}}}
	return terminate(deparse(&pg.Node{Node: &pg.Node_AlterTableStmt{AlterTableStmt: add}})) + "\n" +
		fmt.Sprintf("ALTER TABLE %s VALIDATE CONSTRAINT %s;", qname(rel), quoteIdent(fixed.Conname))
}

// zeroValue is a placeholder value of the type for a backfill.
func zeroValue(t *pg.TypeName) string {
	switch typeName(t) {
	case "int2", "int4", "int8", "smallint", "integer", "int", "bigint", "numeric", "decimal", "float4", "float8", "real", "money":
		return "0"
	case "bool", "boolean":
		return "false"
	case "timestamp", "timestamptz", "date":
		return "now()"
	case "uuid":
		return "gen_random_uuid()"
	case "json", "jsonb":
		return "'{}'"
	}
	return "'' /* the value for existing rows */"
}

// stableFuncs are the functions a DEFAULT may call without a rewrite on
// PostgreSQL 11+: they are not volatile, so the value is computed once.
var stableFuncs = map[string]bool{
	"now": true, "transaction_timestamp": true, "statement_timestamp": true, "current_setting": true,
	"lower": true, "upper": true, "concat": true, "jsonb_build_object": true, "json_build_object": true,
	"jsonb_build_array": true, "json_build_array": true, "to_jsonb": true, "array_fill": true,
	"make_interval": true, "to_timestamp": true, "length": true, "md5": true,
}

// volatile reports whether a default expression calls a function that is
// not known to be stable or immutable (random(), gen_random_uuid(),
// clock_timestamp(), nextval() ...).
func volatile(e *pg.Node) bool {
	for _, f := range funcNames(e) {
		if !stableFuncs[f] {
			return true
		}
	}
	return false
}
