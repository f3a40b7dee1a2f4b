package agent

import (
	"context"
	"fmt"
	"strings"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/servershare"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// supportedEngine reports whether an engine is registered with package
// dialect (engines.go imports the engines this agent serves).
func supportedEngine(e domain.DatabaseType) bool {
	_, ok := dialect.Lookup(e)
	return ok
}

// supportedEngines lists the registered engines, for messages.
func supportedEngines() string {
	var names []string
	for _, e := range dialect.Registered() {
		names = append(names, string(e))
	}
	return strings.Join(names, ", ")
}

// openInstance opens a connection to an instance with its engine. An
// engine that can share the answers to server-wide questions among the
// databases of one server shares them through servers.
func openInstance(ctx context.Context, in agentconfig.InstanceConfig, servers *servershare.Cache) (dialect.Conn, error) {
	e, ok := dialect.Lookup(in.Engine)
	if !ok {
		return nil, fmt.Errorf("engine %s is not supported", in.Engine)
	}
	if se, ok := e.(dialect.ServerSharingEngine); ok {
		return se.OpenShared(ctx, in.DSN, servers)
	}
	return e.Open(ctx, in.DSN)
}
