// Package pooler is the agent's contract with the connection poolers it
// switches for a BlueGreen rollout (PgBouncer, ProxySQL, ...). Each kind of
// pooler is one sub-package that registers itself by kind (Register), so
// the agent looks a pooler up by the kind its config names and never
// branches on it.
package pooler

import (
	"context"
	"fmt"
	"sync"
)

// DefaultKind is the kind of a pooler whose config names none: PgBouncer,
// the only kind there was before kinds were named.
const DefaultKind = "pgbouncer"

// Config says which pooler to manage and which of its entries to switch.
type Config struct {
	// AdminDSN logs in to the pooler's admin interface; it holds a
	// password and never leaves the agent.
	AdminDSN string
	// ConfigFile is the pooler's config file the agent may rewrite.
	ConfigFile string
	// Database is the entry to switch, as clients name it.
	Database string
}

// Target is a server a pooler entry can point at.
type Target struct {
	Host   string
	Port   int
	DBName string
}

// Switcher switches one entry of one pooler. The contract: Switch points
// the entry at to without a client seeing an error (in-flight transactions
// finish, new ones wait), checks that the pooler now routes there, and on
// any failure leaves the entry as it was before returning. events, when not
// nil, receives progress ("info", "warn", "error"). Nothing it returns or
// reports holds a password.
type Switcher interface {
	Switch(ctx context.Context, to Target, events func(level, msg string)) error
}

// Opener returns a Switcher for the pooler cfg describes; it connects to
// nothing until Switch.
type Opener func(cfg Config) Switcher

// kinds holds the registered pooler kinds, filled at init time.
var kinds = struct {
	sync.RWMutex
	byName map[string]Opener
}{byName: map[string]Opener{}}

// Register makes open the Opener of poolers of kind. It is meant to be
// called from the init function of the kind's package, and panics when
// open is nil or kind is registered already.
func Register(kind string, open Opener) {
	if open == nil {
		panic("pooler: Register of a nil opener for " + kind)
	}
	kinds.Lock()
	defer kinds.Unlock()
	if _, dup := kinds.byName[kind]; dup {
		panic("pooler: Register called twice for " + kind)
	}
	kinds.byName[kind] = open
}

// Open returns a Switcher of kind (DefaultKind when empty) for cfg, or an
// error naming the kind when none is registered.
func Open(kind string, cfg Config) (Switcher, error) {
	if kind == "" {
		kind = DefaultKind
	}
	kinds.RLock()
	open, ok := kinds.byName[kind]
	kinds.RUnlock()
	if !ok {
		return nil, fmt.Errorf("pooler: this agent cannot switch poolers of kind %q", kind)
	}
	return open(cfg), nil
}
