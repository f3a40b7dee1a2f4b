// Package sqlserver lints SQL Server migration scripts, following the
// blocking and rewriting operations SQL Server's documentation describes:
// ALTER COLUMN changes that rewrite or scan the table (a new type, a
// shorter length, NULL to NOT NULL), index builds and table rebuilds
// without ONLINE = ON, NOT NULL columns added without a default, foreign
// keys and checks added WITH CHECK (a scan) rather than WITH NOCHECK,
// defaults added WITH VALUES, data loss (DROP COLUMN, DROP TABLE,
// TRUNCATE), sp_rename, which breaks callers, and UPDATE or DELETE of a
// whole table in one transaction. No parser of the whole
// T-SQL grammar exists in Go: the linter reads the tokens of package tsql
// and recognises the commands it judges; a batch the lexer refuses is
// reported with its line and column.
package sqlserver

import (
	"fmt"
	"strings"

	"github.com/hotswap-db/hotswap/internal/lint"
	"github.com/hotswap-db/hotswap/internal/tsql"
)

// Flavor is SQL Server's lint.Flavor.
const Flavor lint.Flavor = "SQL Server"

// DefaultTarget is SQL Server 2022 (16.x), the server scripts are judged
// against when neither the options nor the script's first line name one.
var DefaultTarget = lint.Target{Flavor: Flavor, Major: 16}

// productYears maps the product's year, as people write it ("SQL Server
// 2019"), to its major version.
var productYears = map[int]int{2016: 13, 2017: 14, 2019: 15, 2022: 16, 2025: 17}

// ResolveTarget reads the target of a run like lint.ResolveTarget, taking
// a product year for its version and refusing another engine's flavor.
func ResolveTarget(opt lint.Target, script string) (lint.Target, error) {
	t := lint.ResolveTarget(opt, script, DefaultTarget)
	switch t.Flavor {
	case lint.FlavorPostgreSQL, lint.FlavorMySQL, lint.FlavorMariaDB:
		return lint.Target{}, fmt.Errorf("lint: target %s is not SQL Server", t)
	}
	if v, ok := productYears[t.Major]; ok {
		t.Major, t.Minor, t.Patch = v, 0, 0
	}
	t.Flavor = Flavor
	return t, nil
}

// Lint judges a whole SQL Server script. A script the lexer refuses is
// an error with its line and column; a statement the linter does not
// know is left to the server (most T-SQL is harmless to a table).
func Lint(script string, opts lint.Options) (lint.Result, error) {
	target, err := ResolveTarget(opts.Target, script)
	if err != nil {
		return lint.Result{}, err
	}
	s, err := tsql.Split(script)
	if err != nil {
		return lint.Result{}, fmt.Errorf("lint: %w", err)
	}
	l := &linter{script: script, catalog: opts.Catalog, created: map[string]bool{}}
	for _, b := range s.Batches {
		for _, st := range b.Statements {
			l.stmts = append(l.stmts, lint.Statement{Offset: st.Offset, End: st.End, SQL: st.Text})
			l.cur = len(l.stmts) - 1
			l.statement(st)
		}
	}
	comments := make([]lint.Comment, len(s.Comments))
	for i, c := range s.Comments {
		comments[i] = lint.Comment{Offset: c.Offset, End: c.Offset + len(c.Text), Text: c.Text}
	}
	in := lint.Input{Target: target, Statements: l.stmts, Findings: l.findings, Comments: comments, Objects: l.objects}
	return lint.Assemble(script, in, opts), nil
}

// linter is the state of one run over a script.
type linter struct {
	script   string
	catalog  lint.Catalog
	stmts    []lint.Statement
	findings []lint.Finding
	objects  []lint.Object
	cur      int
	created  map[string]bool // tables created by the script, folded
}

// finding records f on the current statement. A size-dependent hazard
// counts toward the risk through its own class (lint.ComputeRisk), which
// the live catalog may lower for a small table.
func (l *linter) finding(f lint.Finding) {
	f.Statement = l.cur + 1
	if !f.SizeDependent {
		l.classify(f.Class)
	}
	l.findings = append(l.findings, f)
}

// classify raises the current statement's class to c.
func (l *linter) classify(c lint.Class) {
	s := &l.stmts[l.cur]
	s.Class = max(s.Class, c)
}

// statement judges each command of a statement (those inside IF ... BEGIN
// ... END blocks too).
func (l *linter) statement(st tsql.Statement) {
	if tsql.IsModule(st.Tokens) {
		l.classify(lint.ClassAdditive)
		return
	}
	for _, cmd := range tsql.Commands(st.Tokens) {
		l.command(cmd)
	}
}

// command dispatches one command to its rules.
func (l *linter) command(cmd []tsql.Token) {
	switch w := words(cmd, 3); {
	case w[0] == "CREATE" && w[1] == "TABLE":
		l.createTable(cmd)
	case w[0] == "ALTER" && w[1] == "TABLE":
		l.alterTable(cmd)
	case tsql.IsIndexBuild(cmd):
		l.indexBuild(cmd)
	case w[0] == "DROP" && w[1] == "TABLE":
		l.dropTable(cmd)
	case w[0] == "DROP" && w[1] == "DATABASE":
		l.dataLoss("ban-drop-database", "DROP DATABASE removes the database and all its data", "", cmd)
	case w[0] == "TRUNCATE":
		l.truncate(cmd)
	case w[0] == "UPDATE" || w[0] == "DELETE":
		l.dml(cmd)
	case w[0] == "EXEC" || w[0] == "EXECUTE":
		l.exec(cmd)
	case w[0] == "DROP" && w[1] == "INDEX":
		l.objectsOf(cmd, lint.ActionDrop)
		l.classify(lint.ClassAdditive)
	case w[0] == "ALTER" && w[1] == "DATABASE", w[0] == "CREATE" && w[1] == "FULLTEXT", w[0] == "ALTER" && w[1] == "FULLTEXT":
		l.finding(lint.Finding{Rule: "sqlserver-not-transactional", Severity: lint.Info, Class: lint.ClassNone,
			Message: fmt.Sprintf("%s cannot run in a user transaction: the script runs batch by batch, each recorded as it completes", strings.Join(w[:2], " "))})
	default:
		l.classify(lint.ClassAdditive)
	}
}

// text is the command's text as written.
func (l *linter) text(cmd []tsql.Token) string {
	last := cmd[len(cmd)-1]
	return strings.TrimSuffix(strings.TrimSpace(l.script[cmd[0].Offset:last.Offset+len(last.Text)]), ";")
}

// words is the first n tokens of cmd in upper case, padded with "".
func words(cmd []tsql.Token, n int) []string {
	out := make([]string, n)
	for i := 0; i < n && i < len(cmd); i++ {
		out[i] = cmd[i].Upper()
	}
	return out
}

// tableAfter reads the table name at cmd[i].
func tableAfter(cmd []tsql.Token, i int) (string, int) {
	name, next, _ := tsql.ObjectName(cmd, i)
	return name, next
}

// fold is the key of a table the script creates.
func fold(name string) string { return strings.ToLower(name) }

// isNew reports whether the script created table.
func (l *linter) isNew(table string) bool { return l.created[fold(table)] }

// dataLoss records an error for a command that destroys data; its rewrite
// is the acknowledged form.
func (l *linter) dataLoss(rule, msg, table string, cmd []tsql.Token) {
	l.finding(lint.Finding{Rule: rule, Severity: lint.Error, Class: lint.ClassDataLoss, Message: msg, Table: table,
		Effect:  lint.Effect{Lock: "Sch-M (schema modification)", Duration: "brief", Work: lint.WorkDelete},
		Rewrite: acknowledge(rule, l.text(cmd))})
}

// acknowledge is the rewrite of a deliberate data loss: the same
// statement, with the ignore comment that records why it is safe.
func acknowledge(rule, sql string) string {
	return "-- first ship a release that no longer reads or writes it, and keep a backup\n-- " +
		lint.IgnoreDirective + " " + rule + " data no longer used by any release; backup taken\n" + sql + ";"
}
