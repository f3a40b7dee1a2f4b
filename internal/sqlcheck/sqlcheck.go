// Package sqlcheck checks migration scripts before they are stored: a script
// the target engine cannot parse is refused at creation with the line and
// column of the error, long before it reaches a database.
//
// The package knows no engine. Each engine that can check its scripts on the
// control plane registers a Checker (parse, split, lint on package lint's
// types) from its own package, imported once for its side effect by the program that checks
// scripts:
//
//	import _ "github.com/hotswap-db/hotswap/internal/sqlcheck/pgcheck"
//
// A checker package must not link a database driver: the control plane
// checks scripts without ever connecting to a database.
package sqlcheck

import (
	"errors"
	"fmt"
	"sync"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/lint"
)

// SyntaxError is a script the engine's parser refused.
type SyntaxError struct {
	Message  string // the parser's own message
	Line     int    // 1-based line of the error in the script
	Column   int    // 1-based column (in characters) on that line
	Position int    // 1-based character offset in the script, 0 when unknown
}

// Error returns the parser's message with the line and column, when known.
func (e *SyntaxError) Error() string {
	if e.Position == 0 {
		return "syntax error: " + e.Message
	}
	return fmt.Sprintf("%s at line %d, column %d", e.Message, e.Line, e.Column)
}

// Checker is one engine's control-plane-side script checker. The contract:
//
//   - Parse returns nil when the engine's own parser accepts script, and a
//     *SyntaxError with the line and column of the error when it does not.
//   - Split returns the script's statements in order, without empty ones,
//     honouring the engine's comments and quoting.
//   - Lint judges the whole script with the engine's linter (package
//     lint's Result: findings with their rewrites, ignored findings with
//     their reasons, the objects touched and the computed risk). opts
//     carries the target version (zero: the script's `-- target:` line,
//     else the engine's default), script-wide ignores and, for a live
//     validation, a Catalog that re-ranks findings by table size. It fails
//     only when the script does not parse. A linter that cannot tell which
//     objects a statement touches leaves Result.Objects empty; the live
//     validation then checks sizes for the findings' tables only.
//   - None of them connects to a database, and all are safe for concurrent
//     use.
//
// An engine's linter package already has the shape Lint needs, so a
// checker is a few lines; MySQL's would be:
//
//	func (Checker) Lint(script string, opts lint.Options) (lint.Result, error) {
//		return mysql.Lint(script, opts) // internal/lint/mysql
//	}
type Checker interface {
	Parse(script string) error
	Split(script string) ([]string, error)
	Lint(script string, opts lint.Options) (lint.Result, error)
}

// RollingChecker is an optional capability of a Checker, for engines whose
// replicas can take a schema change themselves with the change kept out of
// replication (MySQL/MariaDB with sql_log_bin=0). RollingCompatible
// reports whether script may be applied replica by replica and on the
// primary last (a rolling schema change), and why. An engine whose
// replicas are read-only copies (PostgreSQL physical standbys) has no such
// capability: its changes reach them through replication.
type RollingChecker interface {
	RollingCompatible(script string) (ok bool, why string)
}

// Rolling returns the RollingChecker of engine's checker, if it has one.
func Rolling(engine domain.DatabaseType) (RollingChecker, bool) {
	c, ok := Lookup(engine)
	if !ok {
		return nil, false
	}
	rc, ok := c.(RollingChecker)
	return rc, ok
}

// TransactionPlanner is an optional capability of a Checker, for engines
// whose executor runs a script inside a transaction when it can.
// InTransactions reports, for each of statements (as Split returns them),
// whether it runs inside a transaction, and, when not all of them do, why;
// the engine's executor decides from the same code, so the plan and the
// run agree. An engine without it runs each statement on its own: its DDL
// commits by itself (MySQL, Oracle).
type TransactionPlanner interface {
	InTransactions(statements []string) (inTx []bool, why string, err error)
}

// InTransactions asks engine's checker which statements run inside a
// transaction (see TransactionPlanner); an engine without the capability
// runs none of them in one.
func InTransactions(engine domain.DatabaseType, statements []string) ([]bool, string, error) {
	c, ok := Lookup(engine)
	if tp, planned := c.(TransactionPlanner); ok && planned {
		return tp.InTransactions(statements)
	}
	return make([]bool, len(statements)), fmt.Sprintf("%s commits each DDL statement by itself", engine), nil
}

// ErrNoChecker is returned by Lint and Split for an engine that registered
// no checker.
var ErrNoChecker = errors.New("sqlcheck: no checker registered for this engine")

// registry holds the checkers registered at init time, by engine.
var registry = struct {
	sync.RWMutex
	checkers map[domain.DatabaseType]Checker
}{checkers: map[domain.DatabaseType]Checker{}}

// Register makes c the checker of engine. It is meant to be called from the
// init function of the engine's checker package, and panics when c is nil
// or engine already has a checker, as database/sql.Register does.
func Register(engine domain.DatabaseType, c Checker) {
	registry.Lock()
	defer registry.Unlock()
	if c == nil {
		panic("sqlcheck: Register of a nil checker for " + string(engine))
	}
	if _, dup := registry.checkers[engine]; dup {
		panic("sqlcheck: Register called twice for " + string(engine))
	}
	registry.checkers[engine] = c
}

// Lookup returns the checker registered for engine, if any.
func Lookup(engine domain.DatabaseType) (Checker, bool) {
	registry.RLock()
	defer registry.RUnlock()
	c, ok := registry.checkers[engine]
	return c, ok
}

// Check parses script with the checker of engine. It returns a *SyntaxError
// when the script does not parse, and nil for engines without a registered
// checker: their scripts are checked only when they run.
func Check(engine domain.DatabaseType, script string) error {
	c, ok := Lookup(engine)
	if !ok {
		return nil
	}
	return c.Parse(script)
}

// Checked reports whether Check parses scripts of this engine.
func Checked(engine domain.DatabaseType) bool {
	_, ok := Lookup(engine)
	return ok
}

// Lint judges script with the linter of engine's checker. It returns an
// error wrapping ErrNoChecker for an engine without one, and the
// checker's error when the script does not parse.
func Lint(engine domain.DatabaseType, script string, opts lint.Options) (lint.Result, error) {
	c, ok := Lookup(engine)
	if !ok {
		return lint.Result{}, fmt.Errorf("%w: %s", ErrNoChecker, engine)
	}
	r, err := c.Lint(script, opts)
	if err != nil {
		return lint.Result{}, fmt.Errorf("sqlcheck: lint %s script: %w", engine, err)
	}
	return r, nil
}

// Split splits script into statements with engine's checker. An engine
// without a checker cannot be split here: it returns an error.
func Split(engine domain.DatabaseType, script string) ([]string, error) {
	c, ok := Lookup(engine)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoChecker, engine)
	}
	return c.Split(script)
}
