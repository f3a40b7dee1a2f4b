package pgbouncer

import (
	"context"

	"github.com/hotswap-db/hotswap/internal/pooler"
)

// Kind is PgBouncer's kind in package pooler.
const Kind = "pgbouncer"

// init registers PgBouncer with package pooler: a program switches
// PgBouncers by importing this package.
func init() { pooler.Register(Kind, open) }

// open is PgBouncer's pooler.Opener.
func open(cfg pooler.Config) pooler.Switcher {
	return switcher{m: New(Config{AdminDSN: cfg.AdminDSN, ConfigFile: cfg.ConfigFile, Database: cfg.Database})}
}

// switcher adapts a Manager to pooler.Switcher.
type switcher struct{ m *Manager }

// Switch switches the entry with Manager.Switch.
func (s switcher) Switch(ctx context.Context, to pooler.Target, events func(level, msg string)) error {
	return s.m.Switch(ctx, Target{Host: to.Host, Port: to.Port, DBName: to.DBName}, events)
}
