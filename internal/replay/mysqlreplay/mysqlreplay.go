// Package mysqlreplay is MySQL and MariaDB's replay.Grammar, on TiDB's
// MySQL parser: which statements of a workload the Shadow strategy may
// replay on a MySQL or MariaDB shadow, and what a captured statement
// reads. It links no database driver, so the control plane reads a
// workload file with it as the agent does; importing it registers the
// grammar for domain.MySQL with package replay.
package mysqlreplay

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	// The parser needs a driver for literal values; this is its standalone one.
	_ "github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/replay"
	"github.com/hotswap-db/hotswap/internal/sqlcheck/mysqlcheck"
)

// init registers the grammar for MySQL/MariaDB databases.
func init() { replay.Register(domain.MySQL, Grammar) }

// Grammar is MySQL/MariaDB's replay.Grammar.
var Grammar replay.Grammar = grammar{}

// grammar implements replay.Grammar with TiDB's parser.
type grammar struct{}

// Split splits a workload file as the script checker does.
func (grammar) Split(script string) ([]string, error) { return mysqlcheck.Statements(script) }

// CheckReadOnly returns nil when stmt is exactly one statement the replay
// may run: a SELECT (UNION, WITH, TABLE and VALUES included) without FOR
// UPDATE, LOCK IN SHARE MODE, INTO (a file or variables) or a call to a
// function known to change server state (GET_LOCK, MASTER_POS_WAIT,
// NEXTVAL, LOAD_FILE, ...); a SHOW; or an EXPLAIN, whose statement must
// itself be a read when ANALYZE runs it. A READ ONLY transaction, the
// second guard, lets a locking read and those functions through: this
// check is what keeps them out.
func (grammar) CheckReadOnly(stmt string) error {
	node, err := parseOne(stmt)
	if err != nil {
		return err
	}
	return checkNode(node)
}

// Shape reports what stmt reads: tables of the server's own schemas
// (information_schema, performance_schema, mysql, sys) and HotSwap's
// history schema count as the catalog, a ? as a parameter.
func (grammar) Shape(stmt string) (replay.Shape, error) {
	node, err := parseOne(stmt)
	if err != nil {
		return replay.Shape{}, err
	}
	var s replay.Shape
	visit(node, func(n ast.Node) error {
		switch n := n.(type) {
		case ast.ParamMarkerExpr:
			s.Params = true
		case *ast.TableName:
			if catalogSchemas[n.Schema.L] {
				s.Catalog = true
			} else {
				s.Tables++
			}
		}
		return nil
	})
	return s, nil
}

// catalogSchemas are the schemas whose reads are noise for a change.
var catalogSchemas = map[string]bool{
	"information_schema": true, "performance_schema": true, "mysql": true, "sys": true, "hotswap": true,
}

// parseOne parses stmt, which must hold exactly one statement. A digest's
// text puts a space between a function's name and its parenthesis
// ("COUNT ( * )"), which parses only with IGNORE_SPACE: that mode is the
// second try, as it makes function names reserved words.
func parseOne(stmt string) (ast.StmtNode, error) {
	nodes, _, err := parser.New().ParseSQL(stmt)
	if err != nil {
		p := parser.New()
		p.SetSQLMode(mysql.ModeIgnoreSpace)
		if spaced, _, err2 := p.ParseSQL(stmt); err2 == nil {
			nodes, err = spaced, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("parse statement: %w", err)
	}
	if len(nodes) != 1 {
		return nil, fmt.Errorf("%w: %d statements where one was expected", replay.ErrNotReadOnly, len(nodes))
	}
	return nodes[0], nil
}

// checkNode decides on one top-level statement.
func checkNode(n ast.StmtNode) error {
	switch n := n.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
		return visit(n, forbidden)
	case *ast.ShowStmt:
		return nil
	case *ast.ExplainStmt:
		return checkExplain(n)
	}
	return fmt.Errorf("%w: %s", replay.ErrNotReadOnly, kindOf(n))
}

// checkExplain accepts EXPLAIN of a read, and EXPLAIN without ANALYZE
// (which only plans) of a write.
func checkExplain(e *ast.ExplainStmt) error {
	if e.Analyze {
		if err := checkNode(e.Stmt); err != nil {
			return fmt.Errorf("EXPLAIN ANALYZE runs its statement: %w", err)
		}
		return nil
	}
	switch e.Stmt.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt, *ast.InsertStmt, *ast.UpdateStmt, *ast.DeleteStmt:
		return nil
	}
	return fmt.Errorf("%w: EXPLAIN of %s", replay.ErrNotReadOnly, kindOf(e.Stmt))
}

// forbidden explains why one node of a SELECT's tree makes it unsafe, or
// returns nil.
func forbidden(n ast.Node) error {
	switch n := n.(type) {
	case *ast.SelectStmt:
		if n.LockInfo != nil && n.LockInfo.LockType != ast.SelectLockNone {
			return fmt.Errorf("%w: SELECT ... %s locks rows", replay.ErrNotReadOnly, n.LockInfo.LockType)
		}
		if n.SelectIntoOpt != nil {
			return fmt.Errorf("%w: SELECT ... INTO writes a file or variables", replay.ErrNotReadOnly)
		}
	case *ast.FuncCallExpr:
		if name := n.FnName.L; sideEffects[name] {
			return fmt.Errorf("%w: calls %s(), which has side effects", replay.ErrNotReadOnly, name)
		}
	}
	return nil
}

// sideEffects are built-in functions that change server state, wait on
// replication or read the server's files, none of which a READ ONLY
// transaction stops.
var sideEffects = map[string]bool{
	"get_lock": true, "release_lock": true, "release_all_locks": true,
	"master_pos_wait": true, "source_pos_wait": true, "master_gtid_wait": true,
	"wait_for_executed_gtid_set": true, "wait_until_sql_thread_after_gtids": true,
	"nextval": true, "setval": true, "load_file": true, "sleep": true, "benchmark": true,
}

// kindOf names a statement for a message: "INSERT", "ALTER TABLE".
func kindOf(n ast.StmtNode) string {
	name := strings.TrimPrefix(fmt.Sprintf("%T", n), "*ast.")
	return strings.TrimSuffix(name, "Stmt")
}

// visit calls check on n and every node below it, depth first, and
// returns the first error.
func visit(n ast.Node, check func(ast.Node) error) error {
	v := &visitor{check: check}
	n.Accept(v)
	return v.err
}

// visitor is an ast.Visitor that stops at the first error.
type visitor struct {
	check func(ast.Node) error
	err   error
}

// Enter checks n; it skips the rest once an error is found.
func (v *visitor) Enter(n ast.Node) (ast.Node, bool) {
	if v.err == nil {
		v.err = v.check(n)
	}
	return n, v.err != nil
}

// Leave goes on while no error is found.
func (v *visitor) Leave(n ast.Node) (ast.Node, bool) { return n, v.err == nil }
