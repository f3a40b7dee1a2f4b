package replay

import (
	"fmt"
	"sync"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/sqlcheck/pgcheck"
)

// Grammar is one engine's reading of SQL for the replay: what every other
// part of the package (the workload file, the capture's Collector, Run's
// re-check) asks of a statement. The contract:
//
//   - Split returns a workload file's statements in order, honouring the
//     engine's comments and quoting; a file that does not parse is an
//     error.
//   - CheckReadOnly returns nil when stmt is exactly one statement the
//     replay may run (a read that locks no row, writes no file or table
//     and calls no function known to change server state), an error
//     wrapping ErrNotReadOnly when it is not, or a parse error. It is the
//     first guard; the engine's Session runs each statement in a read-only
//     transaction, the second.
//   - Shape says what a statement reads, for a capture to keep only the
//     statements worth replaying.
//   - None of them connects to a database, and all are safe for
//     concurrent use.
type Grammar interface {
	Split(script string) ([]string, error)
	CheckReadOnly(stmt string) error
	Shape(stmt string) (Shape, error)
}

// Shape is what a capture needs to know of a statement.
type Shape struct {
	// Params is set when the statement has parameters ($n, ?): statistics
	// that normalise constants keep no values for them.
	Params bool
	// Catalog is set when it reads the engine's catalog or HotSwap's own
	// tables (health checks and catalog queries are noise for a change).
	Catalog bool
	// Tables counts the relations it reads by name outside the catalog.
	Tables int
}

// PostgreSQL is PostgreSQL's grammar, on PostgreSQL's own parser
// (pg_query): CheckReadOnly is the package's CheckReadOnly.
var PostgreSQL Grammar = postgresGrammar{}

// postgresGrammar implements Grammar with pg_query.
type postgresGrammar struct{}

// Split splits a script with pgcheck.
func (postgresGrammar) Split(script string) ([]string, error) { return pgcheck.Statements(script) }

// CheckReadOnly is the package's CheckReadOnly.
func (postgresGrammar) CheckReadOnly(stmt string) error { return CheckReadOnly(stmt) }

// Shape inspects stmt's parse tree.
func (postgresGrammar) Shape(stmt string) (Shape, error) { return shapeOf(stmt) }

// grammars holds the grammars registered at init time, by engine.
var grammars = struct {
	sync.RWMutex
	byEngine map[domain.DatabaseType]Grammar
}{byEngine: map[domain.DatabaseType]Grammar{domain.PostgreSQL: PostgreSQL}}

// Register makes g the replay grammar of engine. It is meant to be called
// from the init function of the engine's grammar package, and panics when
// g is nil or engine already has one, as database/sql.Register does.
// PostgreSQL's is registered by this package.
func Register(engine domain.DatabaseType, g Grammar) {
	grammars.Lock()
	defer grammars.Unlock()
	if g == nil {
		panic("replay: Register of a nil grammar for " + string(engine))
	}
	if _, dup := grammars.byEngine[engine]; dup {
		panic("replay: Register called twice for " + string(engine))
	}
	grammars.byEngine[engine] = g
}

// GrammarFor returns the grammar registered for engine, or an error saying
// that the engine's workloads cannot be read.
func GrammarFor(engine domain.DatabaseType) (Grammar, error) {
	grammars.RLock()
	defer grammars.RUnlock()
	g, ok := grammars.byEngine[engine]
	if !ok {
		return nil, fmt.Errorf("replay: no workload grammar registered for engine %s", engine)
	}
	return g, nil
}
