package postgres

import (
	"context"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/servershare"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// init registers PostgreSQL with package dialect: a program serves
// PostgreSQL instances by importing this package.
func init() { dialect.Register(Engine{}) }

// Engine is PostgreSQL's dialect.Engine.
type Engine struct{}

var (
	_ dialect.Engine              = Engine{}
	_ dialect.ServerSharingEngine = Engine{}
	_ dialect.Conn                = (*Conn)(nil)
	_ dialect.WorkloadCapturer    = (*Conn)(nil)
	_ dialect.WorkloadReplayer    = (*Conn)(nil)
	_ dialect.Preflighter         = (*Conn)(nil)
	_ dialect.HistoryPreparer     = (*Conn)(nil)
	_ dialect.SchemaDrifter       = (*Conn)(nil)
)

// Type returns domain.PostgreSQL.
func (Engine) Type() domain.DatabaseType { return domain.PostgreSQL }

// Open opens a pool to the instance, as the package's Open does.
func (Engine) Open(ctx context.Context, dsn string) (dialect.Conn, error) {
	c, err := Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// OpenShared opens a pool to the instance, as the package's OpenShared
// does.
func (Engine) OpenShared(ctx context.Context, dsn string, shared *servershare.Cache) (dialect.Conn, error) {
	c, err := OpenShared(ctx, dsn, shared)
	if err != nil {
		return nil, err
	}
	return c, nil
}
