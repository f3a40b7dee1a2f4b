package dialect

import (
	"context"
	"slices"
	"sync"

	"github.com/hotswap-db/hotswap/internal/dialect/servershare"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// Engine is one database engine's agent-side implementation, registered by
// its package's init function (Register). Open parses dsn and returns a
// Conn; it need not connect (an instance that is down when the agent starts
// is reported unreachable by Probe until it comes back). Its errors never
// hold a credential, and a dsn that cannot be parsed wraps ErrInvalidDSN.
type Engine interface {
	// Type is the engine's name in the control plane's records.
	Type() domain.DatabaseType
	Open(ctx context.Context, dsn string) (Conn, error)
}

// ServerSharingEngine is an Engine whose Conns can share the answers to
// questions about the whole server (version and role, replication links,
// sessions) with the Conns to the other databases of the same server,
// through a cache the caller owns: an agent serving many databases of one
// server opens each of them with OpenShared and one cache, so that such a
// question is asked once per server, not once per database. Questions about
// one database are still asked of it; a nil cache shares nothing (Open).
type ServerSharingEngine interface {
	Engine
	OpenShared(ctx context.Context, dsn string, shared *servershare.Cache) (Conn, error)
}

// engines holds the registered engines, filled at init time.
var engines = struct {
	sync.RWMutex
	byType map[domain.DatabaseType]Engine
}{byType: map[domain.DatabaseType]Engine{}}

// Register makes e available under e.Type(). It is meant to be called from
// the init function of the engine's package, which a program imports for
// its side effect; it panics when e is nil or its type is registered
// already, as database/sql.Register does.
func Register(e Engine) {
	if e == nil {
		panic("dialect: Register of a nil engine")
	}
	engines.Lock()
	defer engines.Unlock()
	if _, dup := engines.byType[e.Type()]; dup {
		panic("dialect: Register called twice for " + string(e.Type()))
	}
	engines.byType[e.Type()] = e
}

// Lookup returns the engine registered for t, if any.
func Lookup(t domain.DatabaseType) (Engine, bool) {
	engines.RLock()
	defer engines.RUnlock()
	e, ok := engines.byType[t]
	return e, ok
}

// Registered lists the registered engines, in the order of
// domain.DatabaseTypes, then any others by name.
func Registered() []domain.DatabaseType {
	engines.RLock()
	defer engines.RUnlock()
	var out, rest []domain.DatabaseType
	for _, t := range domain.DatabaseTypes {
		if _, ok := engines.byType[t]; ok {
			out = append(out, t)
		}
	}
	for t := range engines.byType {
		if !slices.Contains(domain.DatabaseTypes, t) {
			rest = append(rest, t)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}
