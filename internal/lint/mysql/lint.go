// Package mysql lints MySQL and MariaDB migration scripts on TiDB's MySQL
// parser: operations that copy the table (ALGORITHM=COPY and the changes
// that force it), online operations that still rebuild it, the limits of
// INSTANT per server version, ENUM changes, data loss, renames and
// unbatched DML.
package mysql

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	// The parser needs a driver for literal values; this is its standalone one.
	_ "github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/hotswap-db/hotswap/internal/lint"
)

// DefaultTarget is the server scripts are judged against when neither the
// options nor the script's first line name one.
var DefaultTarget = lint.Target{Flavor: lint.FlavorMySQL, Major: 8, Minor: 0, Patch: 40}

// Lint judges a whole MySQL or MariaDB script. A statement the parser does
// not know is reported as an advisory, never dropped silently.
func Lint(script string, opts lint.Options) (lint.Result, error) {
	target := lint.ResolveTarget(opts.Target, script, DefaultTarget)
	if target.Flavor == lint.FlavorPostgreSQL {
		return lint.Result{}, fmt.Errorf("lint: target %s is not MySQL or MariaDB", target)
	}
	pieces, comments := split(script)
	l := &linter{target: target, catalog: opts.Catalog, created: map[string]bool{}, fkChecks: true}
	p := parser.New()
	var objects []lint.Object
	for i, pc := range pieces {
		text := script[pc.start:pc.end]
		l.stmts = append(l.stmts, lint.Statement{Offset: pc.start, End: pc.end, SQL: strings.TrimSpace(text)})
		l.cur = i
		nodes, _, err := p.ParseSQL(text)
		if err != nil || len(nodes) != 1 {
			l.unparsed(err)
			continue
		}
		l.statement(nodes[0])
		objects = append(objects, touches(i, nodes[0])...)
	}
	in := lint.Input{Target: target, Statements: l.stmts, Findings: l.findings, Comments: comments, Objects: objects}
	return lint.Assemble(script, in, opts), nil
}

// linter is the state of one run over a script.
type linter struct {
	target   lint.Target
	catalog  lint.Catalog
	stmts    []lint.Statement
	findings []lint.Finding
	cur      int
	created  map[string]bool // tables created by the script
	fkChecks bool            // foreign_key_checks as the script leaves it
	inTxn    bool
}

// finding records f. A size-dependent hazard counts toward the risk
// through its own class (lint.ComputeRisk), which the live catalog may
// lower for a small table, so only the others raise the statement's class.
func (l *linter) finding(f lint.Finding) {
	f.Statement = l.cur + 1
	if !f.SizeDependent {
		l.classify(f.Class)
	}
	l.findings = append(l.findings, f)
}

func (l *linter) classify(c lint.Class) {
	s := &l.stmts[l.cur]
	s.Class = max(s.Class, c)
}

func (l *linter) unparsed(err error) {
	msg := "the statement could not be parsed, so it was not checked; review it by hand"
	if err != nil {
		msg += ": " + err.Error()
	}
	l.classify(lint.ClassBlocking)
	l.findings = append(l.findings, lint.Finding{Rule: "unparsed-statement", Severity: lint.Info, Class: lint.ClassBlocking,
		Statement: l.cur + 1, Message: msg})
}

func (l *linter) sql() string { return terminate(l.stmts[l.cur].SQL) }

func (l *linter) statement(n ast.StmtNode) {
	if _, ddl := n.(ast.DDLNode); ddl && l.inTxn {
		l.finding(lint.Finding{Rule: "ddl-in-transaction", Severity: lint.Info, Class: lint.ClassNone,
			Message: "MySQL commits the open transaction before any DDL: the statements before it are not rolled back with it"})
	}
	switch s := n.(type) {
	case *ast.BeginStmt:
		l.inTxn = true
	case *ast.CommitStmt, *ast.RollbackStmt:
		l.inTxn = false
	case *ast.SetStmt:
		l.set(s)
	case *ast.CreateTableStmt:
		l.created[fold(tableKey(s.Table))] = true
		l.classify(lint.ClassAdditive)
	case *ast.CreateViewStmt:
		l.created[fold(tableKey(s.ViewName))] = true
		l.classify(lint.ClassAdditive)
	case *ast.CreateIndexStmt:
		l.createIndex(s)
	case *ast.AlterTableStmt:
		l.alterTable(s)
	case *ast.DropTableStmt:
		l.dropTable(s)
	case *ast.DropDatabaseStmt:
		l.dataLoss("ban-drop-database", "DROP DATABASE removes the database and all its data", "", l.sql())
	case *ast.TruncateTableStmt:
		if !l.created[fold(tableKey(s.Table))] {
			l.dataLoss("ban-truncate", fmt.Sprintf("TRUNCATE deletes every row of %s", tableKey(s.Table)), tableKey(s.Table), l.sql())
		}
	case *ast.RenameTableStmt:
		l.renameTables(s)
	case *ast.DeleteStmt:
		l.delete(s)
	case *ast.UpdateStmt:
		l.update(s)
	case *ast.OptimizeTableStmt:
		l.optimize(s)
	case *ast.SelectStmt, *ast.InsertStmt, *ast.ShowStmt, *ast.ExplainStmt:
		l.classify(lint.ClassNone)
	default:
		l.classify(lint.ClassAdditive)
	}
}

// set tracks foreign_key_checks, which decides how a foreign key is added.
func (l *linter) set(s *ast.SetStmt) {
	for _, v := range s.Variables {
		if !strings.EqualFold(v.Name, "foreign_key_checks") || v.Value == nil {
			continue
		}
		val := strings.ToLower(restore(v.Value))
		l.fkChecks = !(val == "0" || val == "off" || val == "false" || val == "'off'")
	}
}

// tableKey is a table's name as written, "db.table" or "table": MySQL on
// Linux tells table names apart by case, so findings name the table the
// catalog knows.
func tableKey(t *ast.TableName) string { return writtenName(t) }

// fold is the key of the tables the script creates: compared without case,
// so a script that spells a new table two ways is not taken for touching
// an existing one.
func fold(key string) string { return strings.ToLower(key) }

// restore prints a node as SQL.
func restore(n ast.Node) string {
	var sb strings.Builder
	flags := format.RestoreStringSingleQuotes | format.RestoreKeyWordUppercase | format.RestoreNameBackQuotes | format.RestoreStringWithoutDefaultCharset
	if err := n.Restore(format.NewRestoreCtx(flags, &sb)); err != nil {
		return ""
	}
	return sb.String()
}

func terminate(sql string) string {
	sql = strings.TrimSpace(sql)
	if !strings.HasSuffix(sql, ";") {
		sql += ";"
	}
	return sql
}

// dataLoss records an error for a statement that destroys data; its
// rewrite is the acknowledged form.
func (l *linter) dataLoss(rule, msg, table, sql string) {
	l.finding(lint.Finding{Rule: rule, Severity: lint.Error, Class: lint.ClassDataLoss, Message: msg, Table: table,
		Effect:  lint.Effect{Lock: "exclusive metadata lock", Duration: "brief", Work: lint.WorkDelete},
		Rewrite: acknowledge(rule, sql)})
}

func acknowledge(rule, sql string) string {
	return "-- first ship a release that no longer reads or writes it, and keep a backup\n-- " +
		lint.IgnoreDirective + " " + rule + " data no longer used by any release; backup taken\n" + sql
}

// ghost is the rewrite for changes that have no online form on the server:
// an online schema change tool copies the table in chunks instead.
func ghost(table, alter string) string {
	return fmt.Sprintf("-- no online form on this server: run it with an online schema change tool, which copies in throttled chunks:\n-- gh-ost --database=<db> --table=%s --alter=%q --execute", table, alter)
}
