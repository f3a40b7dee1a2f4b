// Package oracle lints Oracle Database migration scripts, following the
// blocking and rewriting operations Oracle's documentation describes
// (Database Administrator's Guide, SQL Language Reference for 19c and
// 23ai): index builds without ONLINE, which block DML for the whole build;
// ALTER TABLE ... DROP COLUMN, which rewrites every block (SET UNUSED is
// the catalog-only step); MOVE without ONLINE, which blocks DML and leaves
// the indexes UNUSABLE; NOT NULL columns added without a default, which
// fail on a table with rows (ORA-01758); constraints validated as they are
// added, which scan the table under a lock (ENABLE NOVALIDATE then
// VALIDATE does not block DML); column type changes; renames, which break
// callers and invalidate dependent PL/SQL; and data loss (DROP, TRUNCATE).
//
// There is no Oracle SQL parser in Go to walk: the script is cut by
// package plsql and each statement read as tokens, so a rule sees the
// keywords, names and parenthesised lists of a statement, not a syntax
// tree. PL/SQL bodies are not looked into.
package oracle

import (
	"fmt"
	"strings"

	"github.com/hotswap-db/hotswap/internal/lint"
	"github.com/hotswap-db/hotswap/internal/plsql"
)

// FlavorOracle is the flavor of Oracle targets.
const FlavorOracle lint.Flavor = "Oracle"

// DefaultTarget is the server scripts are judged against when neither the
// options nor the script's first line name one: Oracle Database 19c, the
// long-term release.
var DefaultTarget = lint.Target{Flavor: FlavorOracle, Major: 19}

// Lint judges a whole Oracle script. It fails only when the script does
// not lex (see package plsql); a statement it does not know is classified
// as additive, never dropped.
func Lint(script string, opts lint.Options) (lint.Result, error) {
	target := lint.ResolveTarget(opts.Target, script, DefaultTarget)
	if target.Flavor != FlavorOracle {
		return lint.Result{}, fmt.Errorf("lint: target %s is not Oracle", target)
	}
	sc, err := plsql.Split(script)
	if err != nil {
		return lint.Result{}, fmt.Errorf("lint: %w", err)
	}
	l := &linter{target: target, catalog: opts.Catalog, created: map[string]bool{}}
	for i, st := range sc.Database() {
		l.stmts = append(l.stmts, lint.Statement{Offset: st.Offset, End: st.End, SQL: st.Text})
		l.cur = i
		l.statement(st)
	}
	comments := make([]lint.Comment, len(sc.Comments))
	for i, c := range sc.Comments {
		comments[i] = lint.Comment{Offset: c.Offset, End: c.End, Text: c.Text}
	}
	in := lint.Input{Target: target, Statements: l.stmts, Findings: l.findings, Comments: comments, Objects: l.objects}
	return lint.Assemble(script, in, opts), nil
}

// linter is the state of one run over a script.
type linter struct {
	target   lint.Target
	catalog  lint.Catalog
	stmts    []lint.Statement
	findings []lint.Finding
	objects  []lint.Object
	cur      int
	created  map[string]bool // tables the script creates (upper-cased names)
	dml      bool            // DML ran since the last DDL or COMMIT
}

// finding records f on the current statement. A size-dependent hazard
// counts toward the risk through its own class, which the live catalog
// may lower for a small table.
func (l *linter) finding(f lint.Finding) {
	f.Statement = l.cur + 1
	if !f.SizeDependent {
		l.classify(f.Class)
	}
	l.findings = append(l.findings, f)
}

// classify raises the current statement's class to at least c.
func (l *linter) classify(c lint.Class) {
	s := &l.stmts[l.cur]
	s.Class = max(s.Class, c)
}

// object records an object the current statement touches.
func (l *linter) object(kind lint.ObjectKind, name, table string, action lint.Action) {
	l.objects = append(l.objects, lint.Object{Kind: kind, Name: name, Table: table, Action: action, Statement: l.cur + 1})
}

// sql is the current statement, terminated.
func (l *linter) sql() string { return l.stmts[l.cur].SQL + ";" }

// statement dispatches on the statement's leading keywords.
func (l *linter) statement(st plsql.Statement) {
	s := &stream{t: tokens(st.Text)}
	if st.Kind == plsql.PLSQL {
		l.plsqlUnit(s)
		return
	}
	ddl := true
	switch {
	case s.accept("CREATE", "TABLE"), s.accept("CREATE", "GLOBAL", "TEMPORARY", "TABLE"), s.accept("CREATE", "PRIVATE", "TEMPORARY", "TABLE"):
		name := s.name()
		l.created[fold(name)] = true
		l.object(lint.ObjectTable, name, "", lint.ActionCreate)
		l.classify(lint.ClassAdditive)
	case s.peek(0) == "CREATE" && indexAhead(s):
		l.createIndex(s)
	case s.accept("ALTER", "INDEX"):
		l.alterIndex(s)
	case s.accept("ALTER", "TABLE"):
		l.alterTable(s)
	case s.accept("DROP", "TABLE"):
		l.dropTable(s)
	case s.accept("DROP", "USER"), s.accept("DROP", "TABLESPACE"):
		l.dataLoss("ban-drop-schema", "DROP USER / DROP TABLESPACE removes every object in it and its data", "", l.sql())
	case s.accept("TRUNCATE", "TABLE"):
		l.truncate(s)
	case s.accept("RENAME"):
		l.renameTable(s.name(), l.renameTarget(s))
	case s.peek(0) == "UPDATE" || s.peek(0) == "DELETE" || s.peek(0) == "MERGE" || s.peek(0) == "INSERT":
		ddl = false
		l.dml = true
		l.writes(s)
	case s.peek(0) == "COMMIT" || s.peek(0) == "ROLLBACK":
		ddl, l.dml = false, false
		l.classify(lint.ClassNone)
	case s.peek(0) == "SELECT" || s.peek(0) == "WITH" || s.peek(0) == "SET" || s.peek(0) == "LOCK" || s.peek(0) == "SAVEPOINT":
		ddl = false
		l.classify(lint.ClassNone)
	default:
		l.classify(lint.ClassAdditive)
	}
	if ddl && l.dml {
		l.finding(lint.Finding{Rule: "ddl-commits-transaction", Severity: lint.Info, Class: lint.ClassNone,
			Message: "Oracle commits the open transaction before and after every DDL: the DML before this statement is committed with it and cannot be rolled back"})
		l.dml = false
	}
}

// indexAhead reports whether a CREATE statement creates an index.
func indexAhead(s *stream) bool {
	for k := 1; k <= 3; k++ {
		switch s.peek(k) {
		case "INDEX":
			return true
		case "UNIQUE", "BITMAP", "MULTIVALUE":
			continue
		}
		return false
	}
	return false
}

// plsqlUnit judges a PL/SQL unit: replacing a stored unit waits for every
// session running it and invalidates its dependents.
func (l *linter) plsqlUnit(s *stream) {
	l.classify(lint.ClassAdditive)
	if s.peek(0) == "BEGIN" || s.peek(0) == "DECLARE" {
		if hasWords(s.rest(), "EXECUTE", "IMMEDIATE") {
			l.finding(lint.Finding{Rule: "oracle-dynamic-sql", Severity: lint.Info, Class: lint.ClassAdditive,
				Message: "the block runs dynamic SQL (EXECUTE IMMEDIATE), which is not checked here: review the statements it builds by hand"})
		}
		return
	}
	if !s.accept("CREATE", "OR", "REPLACE") {
		return
	}
	s.accept("EDITIONABLE")
	s.accept("NONEDITIONABLE")
	kind := s.peek(0)
	if kind == "PACKAGE" || kind == "TYPE" {
		if s.peek(1) == "BODY" {
			kind += " BODY"
		}
	}
	l.finding(lint.Finding{Rule: "oracle-replace-stored-unit", Severity: lint.Info, Class: lint.ClassAdditive,
		Message: fmt.Sprintf("CREATE OR REPLACE %s waits for a library cache lock until no session runs the unit, "+
			"invalidates the units that depend on it, and sessions holding package state get ORA-04068 on their next call; "+
			"deploy it when the unit is idle, or in a new edition (edition-based redefinition)", kind)})
}

// writes judges DML: an UPDATE or DELETE without WHERE touches every row
// in one transaction (undo, row locks held until the commit).
func (l *linter) writes(s *stream) {
	verb := s.peek(0)
	l.classify(lint.ClassNone)
	if verb != "UPDATE" && verb != "DELETE" {
		return
	}
	s.i++
	s.accept("FROM")
	table := s.name()
	l.object(lint.ObjectTable, table, "", lint.ActionWrite)
	if hasWord(s.rest(), "WHERE") {
		return
	}
	rule := strings.ToLower(verb) + "-without-where"
	l.finding(lint.Finding{Rule: rule, Severity: lint.Warning, Class: lint.ClassDML, Table: table, SizeDependent: true,
		Message: fmt.Sprintf("%s without WHERE changes every row of %s in one transaction: every row stays locked and its undo kept until the commit", verb, table),
		Effect:  lint.Effect{Lock: "row locks on every row", Duration: "until the commit", Work: lint.WorkDML},
		Rewrite: batched(verb, table, s.rest())})
}

// batched is a PL/SQL loop that makes the same change in batches of
// 10,000 rows, committing each.
func batched(verb, table string, rest []tok) string {
	change := "DELETE FROM " + table + " WHERE ROWNUM <= 10000"
	if verb == "UPDATE" {
		change = "UPDATE " + table + " " + join(rest) + " WHERE ROWNUM <= 10000 AND NOT (<the SET condition already holds>)"
	}
	return "BEGIN\n  LOOP\n    " + change + ";\n    EXIT WHEN SQL%ROWCOUNT = 0;\n    COMMIT;\n  END LOOP;\nEND;\n/"
}

// fold is the key of a name for the tables the script creates: Oracle
// folds unquoted names to upper case.
func fold(name string) string {
	if strings.Contains(name, `"`) {
		return strings.ReplaceAll(name, `"`, "")
	}
	return strings.ToUpper(name)
}
