// Package sqlservercheck is SQL Server's script checker: importing it
// registers it with package sqlcheck. It links no database driver.
//
// No maintained Go parser of the whole T-SQL grammar exists (T-SQL has no
// open grammar, and the Go projects that parse it cover a part of it and
// would refuse valid scripts), so Parse is a lexical check on package
// tsql's lexer, not a parse: it cuts the script into batches on GO lines
// (a line holding only GO, any case, with an optional count, never inside
// a string, a quoted or bracketed name or a comment) and reports, with its
// line and column, an unterminated string, quoted identifier, bracketed
// name or block comment (they nest in T-SQL), and a parenthesis left open
// or closed twice in a batch. Everything else is checked by the server
// when the script runs. Split returns the statements of every batch; Lint
// is the linter of package lint/sqlserver.
package sqlservercheck

import (
	"errors"
	"fmt"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/lint"
	lintsqlserver "github.com/hotswap-db/hotswap/internal/lint/sqlserver"
	"github.com/hotswap-db/hotswap/internal/sqlcheck"
	"github.com/hotswap-db/hotswap/internal/tsql"
)

func init() { sqlcheck.Register(domain.SQLServer, Checker{}) }

// Checker implements sqlcheck.Checker for SQL Server.
type Checker struct{}

var (
	_ sqlcheck.Checker            = Checker{}
	_ sqlcheck.TransactionPlanner = Checker{}
)

// Parse checks script lexically; see the package comment.
func (Checker) Parse(script string) error { return Parse(script) }

// Split splits script into statements; see Statements.
func (Checker) Split(script string) ([]string, error) { return Statements(script) }

// Lint runs the SQL Server lint rules; see sqlcheck.Checker.
func (Checker) Lint(script string, opts lint.Options) (lint.Result, error) {
	return lintsqlserver.Lint(script, opts)
}

// InTransactions reports whether the statements run inside the step's
// transaction: all of them unless one refuses a user transaction or
// manages its own (tsql.InTransaction, as the executor decides).
func (Checker) InTransactions(statements []string) ([]bool, string, error) {
	var stmts []tsql.Statement
	for i, text := range statements {
		s, err := tsql.Split(text)
		if err != nil {
			return nil, "", fmt.Errorf("statement %d: %w", i+1, syntaxError(text, err))
		}
		for _, b := range s.Batches {
			stmts = append(stmts, b.Statements...)
		}
	}
	all, why := tsql.InTransaction(stmts)
	inTx := make([]bool, len(statements))
	for i := range inTx {
		inTx[i] = all
	}
	return inTx, why, nil
}

// Parse returns nil when the lexer accepts script, else a
// *sqlcheck.SyntaxError with the line and column of the problem.
func Parse(script string) error {
	_, err := tsql.Split(script)
	return syntaxError(script, err)
}

// syntaxError turns the lexer's error into a *sqlcheck.SyntaxError.
func syntaxError(script string, err error) error {
	var te *tsql.Error
	if !errors.As(err, &te) {
		return err
	}
	return &sqlcheck.SyntaxError{Message: te.Message, Line: te.Line, Column: te.Column,
		Position: len([]rune(script[:te.Offset])) + 1}
}

// Statements returns the statements of every batch, in order, without GO
// lines, comments between statements or closing semicolons.
func Statements(script string) ([]string, error) {
	s, err := tsql.Split(script)
	if err != nil {
		return nil, fmt.Errorf("split script: %w", syntaxError(script, err))
	}
	var out []string
	for _, b := range s.Batches {
		for _, st := range b.Statements {
			out = append(out, st.Text)
		}
	}
	return out, nil
}
