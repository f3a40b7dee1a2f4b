// Package mysqlcheck is MySQL and MariaDB's script checker, on TiDB's MySQL
// parser: importing it registers it with package sqlcheck. Lint is the
// MySQL linter of package lint/mysql. It also says whether a change may
// roll out replica first (RollingCompatible), for the planner. It links
// no database driver.
package mysqlcheck

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	// The parser needs a driver for literal values; this is its standalone one.
	_ "github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/lint"
	lintmysql "github.com/hotswap-db/hotswap/internal/lint/mysql"
	"github.com/hotswap-db/hotswap/internal/sqlcheck"
)

func init() { sqlcheck.Register(domain.MySQL, Checker{}) }

// Checker implements sqlcheck.Checker for MySQL and MariaDB.
type Checker struct{}

var _ sqlcheck.Checker = Checker{}

// Parse parses script; see sqlcheck.Checker.
func (Checker) Parse(script string) error { return Parse(script) }

// Split splits script into statements; see Statements.
func (Checker) Split(script string) ([]string, error) { return Statements(script) }

// Lint runs the MySQL/MariaDB lint rules; see sqlcheck.Checker.
func (Checker) Lint(script string, opts lint.Options) (lint.Result, error) {
	return lintmysql.Lint(script, opts)
}

// lineColumn finds "line L column C" in the parser's message.
var lineColumn = regexp.MustCompile(`line (\d+) column (\d+)`)

// Parse returns nil when the parser accepts script, else a
// *sqlcheck.SyntaxError with the line and column of the error.
func Parse(script string) error {
	_, _, err := parser.New().ParseSQL(script)
	if err == nil {
		return nil
	}
	se := &sqlcheck.SyntaxError{Message: err.Error()}
	if m := lineColumn.FindStringSubmatch(se.Message); m != nil {
		se.Line, _ = strconv.Atoi(m[1])
		se.Column, _ = strconv.Atoi(m[2])
	}
	return se
}

// Statements splits a script into its statements, as the parser reads
// them, without the trailing semicolons.
func Statements(script string) ([]string, error) {
	nodes, _, err := parser.New().ParseSQL(script)
	if err != nil {
		return nil, fmt.Errorf("split script: %w", Parse(script))
	}
	out := make([]string, 0, len(nodes))
	for _, n := range nodes {
		if s := strings.TrimRight(strings.TrimSpace(n.Text()), ";"); s != "" {
			out = append(out, strings.TrimSpace(s))
		}
	}
	return out, nil
}

// RollingCompatible implements sqlcheck.RollingChecker.
func (Checker) RollingCompatible(script string) (bool, string) { return RollingCompatible(script) }

// RollingCompatible reports whether a change may be applied replica first
// with sql_log_bin=0 and on the primary last (a rolling schema change),
// and why. It holds when every statement leaves the replica able to apply
// the primary's row events written against the old schema: a new table,
// an index created or dropped, or columns added at the end of a table
// (row-based replication accepts extra trailing columns on the replica).
// Anything else (a dropped, renamed, retyped or reordered column, DML)
// must run on the primary alone and reach the replicas through
// replication.
func RollingCompatible(script string) (bool, string) {
	nodes, _, err := parser.New().ParseSQL(script)
	if err != nil {
		return false, "the script does not parse"
	}
	for i, n := range nodes {
		if ok, why := compatible(n); !ok {
			return false, fmt.Sprintf("statement %d %s", i+1, why)
		}
	}
	return true, "every statement adds a table, an index or trailing columns, which replicas running the new schema still replicate"
}

// compatible judges one statement.
func compatible(n ast.StmtNode) (bool, string) {
	switch st := n.(type) {
	case *ast.CreateTableStmt, *ast.CreateIndexStmt, *ast.DropIndexStmt:
		return true, ""
	case *ast.AlterTableStmt:
		for _, spec := range st.Specs {
			if ok, why := compatibleSpec(spec); !ok {
				return false, why
			}
		}
		return true, ""
	}
	return false, "is neither a new table, an index nor an added column: replicas must get it through replication"
}

// compatibleSpec judges one ALTER TABLE clause.
func compatibleSpec(spec *ast.AlterTableSpec) (bool, string) {
	switch spec.Tp {
	case ast.AlterTableAddColumns:
		if spec.Position != nil && spec.Position.Tp != ast.ColumnPositionNone {
			return false, "adds a column FIRST or AFTER another: row events would no longer match the replica's columns"
		}
		return true, ""
	case ast.AlterTableAddConstraint:
		if spec.Constraint != nil && (spec.Constraint.Tp == ast.ConstraintIndex || spec.Constraint.Tp == ast.ConstraintKey) {
			return true, ""
		}
		return false, "adds a constraint, which the primary must check first"
	case ast.AlterTableDropIndex, ast.AlterTableAlgorithm, ast.AlterTableLock:
		return true, ""
	}
	return false, "changes existing columns or the table itself: replicas must get it through replication"
}
