// Package pgcheck is PostgreSQL's script checker, on PostgreSQL's own parser
// (pg_query): importing it registers it with package sqlcheck. It links no
// database driver, so the control plane can check scripts without one.
package pgcheck

import (
	"errors"
	"fmt"
	"strings"

	pgquery "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/lint"
	"github.com/hotswap-db/hotswap/internal/lint/postgres"
	"github.com/hotswap-db/hotswap/internal/sqlcheck"
)

func init() { sqlcheck.Register(domain.PostgreSQL, Checker{}) }

// Checker implements sqlcheck.Checker for PostgreSQL.
type Checker struct{}

var _ sqlcheck.Checker = Checker{}

// Parse parses script with PostgreSQL's parser; see sqlcheck.Checker.
func (Checker) Parse(script string) error { return Parse(script) }

// Split splits script into statements; see Statements.
func (Checker) Split(script string) ([]string, error) { return Statements(script) }

// Lint judges script with the PostgreSQL linter (internal/lint/postgres);
// see sqlcheck.Checker.
func (Checker) Lint(script string, opts lint.Options) (lint.Result, error) {
	return postgres.Lint(script, opts)
}

// Parse returns nil when PostgreSQL's parser accepts script, else a
// *sqlcheck.SyntaxError with the line and column of the error.
func Parse(script string) error {
	_, err := pgquery.Parse(script)
	if err == nil {
		return nil
	}
	var perr *pgparser.Error
	if !errors.As(err, &perr) {
		return &sqlcheck.SyntaxError{Message: err.Error()}
	}
	line, col := lineColumn(script, perr.Cursorpos)
	return &sqlcheck.SyntaxError{Message: perr.Message, Line: line, Column: col, Position: perr.Cursorpos}
}

// lineColumn turns a 1-based character position into a 1-based line and column.
func lineColumn(script string, pos int) (line, col int) {
	if pos <= 0 {
		return 0, 0
	}
	line, col = 1, 1
	seen := 1
	for _, r := range script {
		if seen == pos {
			break
		}
		seen++
		if r == '\n' {
			line, col = line+1, 1
			continue
		}
		col++
	}
	return line, col
}

// Statements splits a PostgreSQL script into its statements, honouring
// comments, quoted strings and dollar quoting.
func Statements(script string) ([]string, error) {
	stmts, err := pgquery.SplitWithParser(script, true)
	if err != nil {
		return nil, fmt.Errorf("split script: %w", err)
	}
	out := stmts[:0]
	for _, s := range stmts {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out, nil
}
