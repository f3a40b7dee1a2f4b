// Package postgres lints PostgreSQL migration scripts on pg_query's syntax
// tree (the server's own parser): index builds without CONCURRENTLY,
// rewrites, validations under strong locks, data loss, renames, unbatched
// DML and the transaction hazards of a whole script.
package postgres

import (
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/hotswap-db/hotswap/internal/lint"
)

// DefaultTarget is the server version scripts are judged against when
// neither the options nor the script's first line name one.
var DefaultTarget = lint.Target{Flavor: lint.FlavorPostgreSQL, Major: 15}

// Lint judges a whole PostgreSQL script. It fails only when the script does
// not parse.
func Lint(script string, opts lint.Options) (lint.Result, error) {
	tree, err := pg.Parse(script)
	if err != nil {
		return lint.Result{}, fmt.Errorf("lint: parse postgresql script: %w", err)
	}
	scan, err := pg.Scan(script)
	if err != nil {
		return lint.Result{}, fmt.Errorf("lint: scan postgresql script: %w", err)
	}
	l := newLinter(script, lint.ResolveTarget(opts.Target, script, DefaultTarget), opts.Catalog)
	comments, starts := tokens(script, scan)
	for _, raw := range tree.Stmts {
		l.add(raw, starts)
	}
	var objects []lint.Object
	for i, raw := range tree.Stmts {
		l.statement(i, raw.Stmt)
		objects = append(objects, touches(i, raw.Stmt)...)
	}
	l.finish()
	in := lint.Input{Target: l.target, Statements: l.stmts, Findings: l.findings, Comments: comments, Objects: objects}
	return lint.Assemble(script, in, opts), nil
}

// tokens returns the script's comments and the start offsets of its other
// tokens, in order.
func tokens(script string, scan *pg.ScanResult) (comments []lint.Comment, starts []int) {
	for _, t := range scan.Tokens {
		if t.Token == pg.Token_SQL_COMMENT || t.Token == pg.Token_C_COMMENT {
			comments = append(comments, lint.Comment{Offset: int(t.Start), End: int(t.End), Text: script[t.Start:t.End]})
			continue
		}
		starts = append(starts, int(t.Start))
	}
	return comments, starts
}

// add records statement i's position: from its first token to its end.
func (l *linter) add(raw *pg.RawStmt, starts []int) {
	loc := int(raw.StmtLocation)
	end := len(l.script)
	if raw.StmtLen > 0 {
		end = loc + int(raw.StmtLen)
	}
	start := loc
	for _, s := range starts {
		if s >= loc {
			start = s
			break
		}
	}
	l.stmts = append(l.stmts, lint.Statement{Offset: start, End: end, SQL: strings.TrimSpace(l.script[start:end]), Class: lint.ClassNone})
}
