package oracle

import (
	"context"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// init registers Oracle with package dialect: a program serves Oracle
// instances by importing this package.
func init() { dialect.Register(Engine{}) }

// Engine is Oracle's dialect.Engine.
type Engine struct{}

var (
	_ dialect.Engine      = Engine{}
	_ dialect.Conn        = (*Conn)(nil)
	_ dialect.Preflighter = (*Conn)(nil)
)

// Type returns domain.Oracle.
func (Engine) Type() domain.DatabaseType { return domain.Oracle }

// Open opens a pool to the instance, as the package's Open does.
func (Engine) Open(ctx context.Context, dsn string) (dialect.Conn, error) {
	c, err := Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	return c, nil
}
