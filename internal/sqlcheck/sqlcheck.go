// Package sqlcheck checks migration scripts before they are stored: a script
// the target engine cannot parse is refused at creation with the line and
// column of the error, long before it reaches a database.
package sqlcheck

import (
	"errors"
	"fmt"
	"strings"

	pgquery "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// SyntaxError is a script the engine's parser refused.
type SyntaxError struct {
	Message  string // the parser's own message
	Line     int    // 1-based line of the error in the script
	Column   int    // 1-based column (in characters) on that line
	Position int    // 1-based character offset in the script, 0 when unknown
}

func (e *SyntaxError) Error() string {
	if e.Position == 0 {
		return "syntax error: " + e.Message
	}
	return fmt.Sprintf("%s at line %d, column %d", e.Message, e.Line, e.Column)
}

// Check parses script with the parser of engine. It returns a *SyntaxError
// when the script does not parse, and nil for engines whose scripts are
// checked only when they run.
func Check(engine domain.DatabaseType, script string) error {
	switch engine {
	case domain.PostgreSQL:
		return checkPostgres(script)
	default:
		return nil
	}
}

// Checked reports whether Check parses scripts of this engine.
func Checked(engine domain.DatabaseType) bool { return engine == domain.PostgreSQL }

func checkPostgres(script string) error {
	_, err := pgquery.Parse(script)
	if err == nil {
		return nil
	}
	var perr *pgparser.Error
	if !errors.As(err, &perr) {
		return &SyntaxError{Message: err.Error()}
	}
	line, col := lineColumn(script, perr.Cursorpos)
	return &SyntaxError{Message: perr.Message, Line: line, Column: col, Position: perr.Cursorpos}
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
