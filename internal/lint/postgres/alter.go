package postgres

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"

	"github.com/hotswap-db/hotswap/internal/lint"
)

// cmdResult is the verdict on one ALTER TABLE subcommand.
type cmdResult struct {
	replace string // SQL that replaces the subcommand; "" keeps it
	strong  bool   // it takes a write-blocking lock
	long    bool   // it scans, builds or rewrites the table
}

// alterTable judges each subcommand and gathers the safe replacements of
// the unsafe ones into one rewrite of the whole statement.
func (l *linter) alterTable(s *pg.AlterTableStmt) impact {
	if s.Objtype == pg.ObjectType_OBJECT_INDEX {
		return l.alterIndex(s)
	}
	first := len(l.findings)
	isNew := l.isNew(s.Relation)
	var kept []*pg.Node
	var replacements []string
	imp := impact{}
	for _, c := range s.Cmds {
		cmd := c.GetAlterTableCmd()
		if cmd == nil {
			kept = append(kept, c)
			continue
		}
		r := l.alterCmd(s.Relation, cmd, isNew)
		imp.long = imp.long || r.long
		if r.strong && !isNew {
			imp.strong = &hold{table: key(s.Relation), lock: "ACCESS EXCLUSIVE"}
		}
		if r.replace == "" {
			kept = append(kept, c)
			continue
		}
		replacements = append(replacements, r.replace)
	}
	if isNew {
		l.classify(lint.ClassAdditive)
	}
	if len(replacements) == 0 {
		return imp
	}
	var parts []string
	if len(kept) > 0 {
		rest := proto.Clone(s).(*pg.AlterTableStmt)
		rest.Cmds = kept
		parts = append(parts, terminate(deparse(&pg.Node{Node: &pg.Node_AlterTableStmt{AlterTableStmt: rest}})))
	}
	rewrite := strings.Join(append(parts, replacements...), "\n")
	for i := first; i < len(l.findings); i++ {
		if l.findings[i].Rewrite == "" && l.findings[i].Severity.Hazard() {
			l.findings[i].Rewrite = rewrite
		}
	}
	return imp
}

func (l *linter) alterCmd(rel *pg.RangeVar, cmd *pg.AlterTableCmd, isNew bool) cmdResult {
	switch cmd.Subtype {
	case pg.AlterTableType_AT_AddConstraint:
		return l.addConstraint(rel, cmd.Def.GetConstraint(), isNew)
	case pg.AlterTableType_AT_ValidateConstraint:
		l.validated(rel, cmd.Name)
		return cmdResult{long: !isNew}
	}
	if isNew {
		return cmdResult{}
	}
	switch cmd.Subtype {
	case pg.AlterTableType_AT_AddColumn:
		return l.addColumn(rel, cmd.Def.GetColumnDef(), cmd.MissingOk)
	case pg.AlterTableType_AT_AlterColumnType:
		return l.alterType(rel, cmd.Name, cmd.Def.GetColumnDef())
	case pg.AlterTableType_AT_SetNotNull:
		return l.setNotNull(rel, cmd.Name)
	case pg.AlterTableType_AT_DropColumn:
		return l.dropColumn(rel, cmd)
	case pg.AlterTableType_AT_AddIdentity:
		l.classify(lint.ClassConstraint)
		l.identities = append(l.identities, identity{stmt: l.cur, table: key(rel), column: cmd.Name, sql: l.sql()})
		return cmdResult{strong: true}
	case pg.AlterTableType_AT_SetTableSpace, pg.AlterTableType_AT_SetLogged, pg.AlterTableType_AT_SetUnLogged,
		pg.AlterTableType_AT_SetAccessMethod:
		return l.tableRewrite(rel, cmd)
	case pg.AlterTableType_AT_AddIndexConstraint:
		l.classify(lint.ClassConstraint)
	default:
		l.classify(lint.ClassMetadata)
	}
	return cmdResult{strong: true}
}

// alterIndex: ALTER INDEX ... SET TABLESPACE copies the index under ACCESS
// EXCLUSIVE; the rest is catalog-only.
func (l *linter) alterIndex(s *pg.AlterTableStmt) impact {
	l.classify(lint.ClassMetadata)
	for _, c := range s.Cmds {
		if c.GetAlterTableCmd().GetSubtype() == pg.AlterTableType_AT_SetTableSpace {
			l.classify(lint.ClassRewrite)
			l.finding(lint.Finding{Rule: "set-tablespace", Severity: lint.Warning, Class: lint.ClassRewrite,
				Message: "SET TABLESPACE copies the index under ACCESS EXCLUSIVE: the table cannot be used until the copy ends",
				Effect:  lint.Effect{Lock: "ACCESS EXCLUSIVE", Duration: "until the copy ends", Work: lint.WorkCopy},
				Rewrite: "-- move it online instead: build a copy with CREATE INDEX CONCURRENTLY ... TABLESPACE, then DROP INDEX CONCURRENTLY the old one"})
		}
	}
	return impact{}
}

// tableRewrite flags the subcommands that write a new copy of the table.
func (l *linter) tableRewrite(rel *pg.RangeVar, cmd *pg.AlterTableCmd) cmdResult {
	rule, what, repl := "set-tablespace", "SET TABLESPACE", fmt.Sprintf("-- move the table online instead, outside the migration:\n-- pg_repack --table=%s --tablespace=%s <database>", key(rel), cmd.Name)
	switch cmd.Subtype {
	case pg.AlterTableType_AT_SetLogged, pg.AlterTableType_AT_SetUnLogged:
		rule, what, repl = "set-logged", "SET LOGGED / UNLOGGED", "-- SET LOGGED/UNLOGGED has no online form: run it in a maintenance window, or copy into a new table online"
	case pg.AlterTableType_AT_SetAccessMethod:
		rule, what, repl = "set-tablespace", "SET ACCESS METHOD", "-- copy into a new table with the access method online, then swap in a maintenance window"
	}
	l.classify(lint.ClassRewrite)
	l.finding(lint.Finding{Rule: rule, Severity: lint.Warning, Class: lint.ClassRewrite,
		Message: fmt.Sprintf("%s rewrites %s under ACCESS EXCLUSIVE: no reads or writes until the copy ends", what, key(rel)),
		Effect:  lint.Effect{Lock: "ACCESS EXCLUSIVE", Duration: "until the copy ends", Work: lint.WorkRewrite},
		Table:   key(rel), SizeDependent: true})
	return cmdResult{replace: repl, strong: true, long: true}
}

func (l *linter) dropColumn(rel *pg.RangeVar, cmd *pg.AlterTableCmd) cmdResult {
	l.classify(lint.ClassDataLoss)
	l.finding(lint.Finding{Rule: "ban-drop-column", Severity: lint.Error, Class: lint.ClassDataLoss,
		Message: fmt.Sprintf("DROP COLUMN deletes %s.%s and its data; releases still reading it fail", key(rel), cmd.Name),
		Effect:  lint.Effect{Lock: "ACCESS EXCLUSIVE", Duration: "brief (catalog only)", Work: lint.WorkDelete},
		Table:   key(rel)})
	one := &pg.AlterTableStmt{Relation: rel, Objtype: pg.ObjectType_OBJECT_TABLE, Cmds: []*pg.Node{{Node: &pg.Node_AlterTableCmd{AlterTableCmd: cmd}}}}
	return cmdResult{replace: acknowledge("ban-drop-column", terminate(deparse(&pg.Node{Node: &pg.Node_AlterTableStmt{AlterTableStmt: one}}))), strong: true}
}

// validated marks a constraint VALIDATEd.
func (l *linter) validated(rel *pg.RangeVar, name string) {
	l.classify(lint.ClassConstraint)
	k := key(rel) + "." + name
	if c, ok := l.checks[k]; ok {
		c.validated = true
		l.checks[k] = c
	}
}

// setNotNull scans the whole table under ACCESS EXCLUSIVE, unless a
// validated CHECK (col IS NOT NULL) proves it (PostgreSQL 12+).
func (l *linter) setNotNull(rel *pg.RangeVar, col string) cmdResult {
	l.classify(lint.ClassConstraint)
	if l.target.AtLeast(12, 0, 0) && l.provenNotNull(rel, col) {
		return cmdResult{strong: true}
	}
	f := lint.Finding{Rule: "set-not-null-without-check", Severity: lint.Warning, Class: lint.ClassBlocking,
		Message: fmt.Sprintf("SET NOT NULL scans all of %s under ACCESS EXCLUSIVE to check %s; no reads or writes until it ends", key(rel), col),
		Effect:  lint.Effect{Lock: "ACCESS EXCLUSIVE", Duration: "until the scan ends", Work: lint.WorkScan},
		Table:   key(rel), SizeDependent: true}
	if !l.target.AtLeast(12, 0, 0) {
		f.Message += " (before PostgreSQL 12 no CHECK constraint avoids the scan)"
		l.finding(f)
		return cmdResult{strong: true, long: true}
	}
	l.finding(f)
	return cmdResult{replace: l.outside(notNullSteps(rel, col, true)), strong: true, long: true}
}

func (l *linter) provenNotNull(rel *pg.RangeVar, col string) bool {
	prefix := key(rel) + "."
	for k, c := range l.checks {
		if strings.HasPrefix(k, prefix) && c.column == col && c.validated {
			return true
		}
	}
	return false
}

// notNullSteps is the scan-free way to SET NOT NULL: a NOT VALID check,
// validated without blocking writes, lets SET NOT NULL skip its scan.
func notNullSteps(rel *pg.RangeVar, col string, dropCheck bool) string {
	t, c := qname(rel), quoteIdent(col)
	name := quoteIdent(truncName(rel.Relname + "_" + col + "_not_null"))
	steps := []string{
		fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s IS NOT NULL) NOT VALID;", t, name, c),
		fmt.Sprintf("ALTER TABLE %s VALIDATE CONSTRAINT %s;", t, name),
		fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s SET NOT NULL;", t, c),
	}
	if dropCheck {
		steps = append(steps, fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT %s;", t, name))
	}
	return strings.Join(steps, "\n")
}

// truncName keeps a generated name within PostgreSQL's 63 bytes.
func truncName(s string) string {
	if len(s) > 63 {
		return s[:63]
	}
	return s
}

// addConstraint: FOREIGN KEY and CHECK validate at once unless NOT VALID;
// UNIQUE and PRIMARY KEY build their index under ACCESS EXCLUSIVE unless
// USING INDEX.
func (l *linter) addConstraint(rel *pg.RangeVar, c *pg.Constraint, isNew bool) cmdResult {
	if c == nil {
		return cmdResult{strong: true}
	}
	if c.Contype == pg.ConstrType_CONSTR_CHECK {
		if col := notNullColumn(c.RawExpr); col != "" {
			name := c.Conname
			if name == "" {
				name = rel.Relname + "_" + col + "_check"
			}
			l.checks[key(rel)+"."+name] = check{column: col, validated: !c.SkipValidation || isNew}
		}
	}
	if isNew {
		return cmdResult{}
	}
	l.classify(lint.ClassConstraint)
	switch c.Contype {
	case pg.ConstrType_CONSTR_FOREIGN, pg.ConstrType_CONSTR_CHECK:
		if c.SkipValidation {
			return cmdResult{strong: true}
		}
		return l.validateAtOnce(rel, c)
	case pg.ConstrType_CONSTR_PRIMARY, pg.ConstrType_CONSTR_UNIQUE:
		if c.Indexname != "" {
			return cmdResult{strong: true}
		}
		return l.uniqueWithoutIndex(rel, c)
	}
	return cmdResult{strong: true}
}

// notNullColumn returns col when e is "col IS NOT NULL".
func notNullColumn(e *pg.Node) string {
	nt := e.GetNullTest()
	if nt == nil || nt.Nulltesttype != pg.NullTestType_IS_NOT_NULL {
		return ""
	}
	return lastField(nt.Arg.GetColumnRef())
}

func lastField(cr *pg.ColumnRef) string {
	if cr == nil || len(cr.Fields) == 0 {
		return ""
	}
	return cr.Fields[len(cr.Fields)-1].GetString_().GetSval()
}

func (l *linter) validateAtOnce(rel *pg.RangeVar, c *pg.Constraint) cmdResult {
	fixed := proto.Clone(c).(*pg.Constraint)
	fixed.SkipValidation, fixed.InitiallyValid = true, false
	if fixed.Conname == "" {
		fixed.Conname = defaultConname(rel, c)
	}
	kind, lock := "CHECK", "ACCESS EXCLUSIVE"
	if c.Contype == pg.ConstrType_CONSTR_FOREIGN {
		kind, lock = "FOREIGN KEY", "SHARE ROW EXCLUSIVE on both tables"
	}
	l.classify(lint.ClassBlocking)
	l.finding(lint.Finding{Rule: "constraint-missing-not-valid", Severity: lint.Warning, Class: lint.ClassBlocking,
		Message: fmt.Sprintf("ADD %s validates every row of %s while holding %s, blocking writes until the scan ends", kind, key(rel), lock),
		Effect:  lint.Effect{Lock: lock, Duration: "until every row is checked", Work: lint.WorkScan},
		Table:   key(rel), SizeDependent: true})
	add := &pg.AlterTableStmt{Relation: rel, Objtype: pg.ObjectType_OBJECT_TABLE, Cmds: []*pg.Node{{Node: &pg.Node_AlterTableCmd{
		AlterTableCmd: &pg.AlterTableCmd{Subtype: pg.AlterTableType_AT_AddConstraint, Def: &pg.Node{Node: &pg.Node_Constraint{Constraint: fixed}}}}}}}
	validate := fmt.Sprintf("ALTER TABLE %s VALIDATE CONSTRAINT %s;", qname(rel), quoteIdent(fixed.Conname))
	return cmdResult{replace: terminate(deparse(&pg.Node{Node: &pg.Node_AlterTableStmt{AlterTableStmt: add}})) + "\n" + l.outside(validate), strong: true, long: true}
}

// defaultConname names a constraint the way PostgreSQL would.
func defaultConname(rel *pg.RangeVar, c *pg.Constraint) string {
	cols := c.FkAttrs
	suffix := "fkey"
	switch c.Contype {
	case pg.ConstrType_CONSTR_CHECK:
		suffix = "check"
		if col := notNullColumn(c.RawExpr); col != "" {
			return truncName(rel.Relname + "_" + col + "_check")
		}
	case pg.ConstrType_CONSTR_PRIMARY:
		return truncName(rel.Relname + "_pkey")
	case pg.ConstrType_CONSTR_UNIQUE:
		cols, suffix = c.Keys, "key"
	}
	parts := []string{rel.Relname}
	for _, k := range cols {
		parts = append(parts, k.GetString_().GetSval())
	}
	return truncName(strings.Join(append(parts, suffix), "_"))
}

func (l *linter) uniqueWithoutIndex(rel *pg.RangeVar, c *pg.Constraint) cmdResult {
	name := c.Conname
	if name == "" {
		name = defaultConname(rel, c)
	}
	kind := "UNIQUE"
	if c.Contype == pg.ConstrType_CONSTR_PRIMARY {
		kind = "PRIMARY KEY"
	}
	var cols []string
	for _, k := range c.Keys {
		cols = append(cols, quoteIdent(k.GetString_().GetSval()))
	}
	l.classify(lint.ClassBlocking)
	l.finding(lint.Finding{Rule: "disallowed-unique-constraint", Severity: lint.Warning, Class: lint.ClassBlocking,
		Message: fmt.Sprintf("ADD %s builds its index under ACCESS EXCLUSIVE: no reads or writes on %s until the build ends", kind, key(rel)),
		Effect:  lint.Effect{Lock: "ACCESS EXCLUSIVE", Duration: "until the index is built", Work: lint.WorkBuild},
		Table:   key(rel), SizeDependent: true})
	build := fmt.Sprintf("CREATE UNIQUE INDEX CONCURRENTLY %s ON %s (%s);", quoteIdent(name), qname(rel), strings.Join(cols, ", "))
	attach := fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s USING INDEX %s;", qname(rel), quoteIdent(name), kind, quoteIdent(name))
	return cmdResult{replace: l.outside(build) + "\n" + attach, strong: true, long: true}
}
