// Package sqlcheck checks migration scripts before they are stored: a script
// the target engine cannot parse is refused at creation with the line and
// column of the error, long before it reaches a database.
//
// The package knows no engine. Each engine that can check its scripts on the
// control plane registers a Checker (parse, split, lint) from its own
// package, imported once for its side effect by the program that checks
// scripts:
//
//	import _ "github.com/hotswap-db/hotswap/internal/sqlcheck/pgcheck"
//
// A checker package must not link a database driver: the control plane
// checks scripts without ever connecting to a database.
package sqlcheck

import (
	"fmt"
	"sync"

	"github.com/hotswap-db/hotswap/internal/domain"
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

// Finding is one thing a lint rule says about a script.
type Finding struct {
	// Rule names the rule that found it.
	Rule string
	// Severity is info, warn or error.
	Severity string
	// Message says what was found and what to do instead.
	Message string
	// Statement is the 0-based index of the statement it is about, or -1
	// for the script as a whole.
	Statement int
}

// Checker is one engine's control-plane-side script checker. The contract:
//
//   - Parse returns nil when the engine's own parser accepts script, and a
//     *SyntaxError with the line and column of the error when it does not.
//   - Split returns the script's statements in order, without empty ones,
//     honouring the engine's comments and quoting.
//   - Lint returns what the engine's lint rules find in a script that
//     parses; no findings is nil. It never fails: a rule that cannot
//     decide says nothing.
//   - None of them connects to a database, and all are safe for concurrent
//     use.
type Checker interface {
	Parse(script string) error
	Split(script string) ([]string, error)
	Lint(script string) []Finding
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

// Lint returns the findings of engine's lint rules on script: nil for an
// engine without a checker.
func Lint(engine domain.DatabaseType, script string) []Finding {
	c, ok := Lookup(engine)
	if !ok {
		return nil
	}
	return c.Lint(script)
}

// Split splits script into statements with engine's checker. An engine
// without a checker cannot be split here: it returns an error.
func Split(engine domain.DatabaseType, script string) ([]string, error) {
	c, ok := Lookup(engine)
	if !ok {
		return nil, fmt.Errorf("sqlcheck: no checker registered for engine %s", engine)
	}
	return c.Split(script)
}
