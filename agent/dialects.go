package agent

import (
	"context"
	"fmt"
	"strings"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/postgres"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// opener opens a connection to an instance of one engine.
type opener func(ctx context.Context, dsn string) (dialect.Conn, error)

// openers lists the engines this agent can serve.
var openers = map[domain.DatabaseType]opener{
	domain.PostgreSQL: func(ctx context.Context, dsn string) (dialect.Conn, error) { return postgres.Open(ctx, dsn) },
}

func supportedEngine(e domain.DatabaseType) bool {
	_, ok := openers[e]
	return ok
}

func supportedEngines() string {
	var names []string
	for _, e := range domain.DatabaseTypes {
		if supportedEngine(e) {
			names = append(names, string(e))
		}
	}
	return strings.Join(names, ", ")
}

func openInstance(ctx context.Context, in agentconfig.InstanceConfig) (dialect.Conn, error) {
	open, ok := openers[in.Engine]
	if !ok {
		return nil, fmt.Errorf("engine %s is not supported", in.Engine)
	}
	return open(ctx, in.DSN)
}

// newSampler returns the sampler of an engine's connection.
func newSampler(engine domain.DatabaseType, conn dialect.Conn) (dialect.Sampler, error) {
	switch c := conn.(type) {
	case *postgres.Conn:
		return c.NewSampler(), nil
	}
	return nil, fmt.Errorf("engine %s has no sampler yet", engine)
}
