// Command hotswap is the HotSwap CLI: it manages agents, databases and
// schema migrations through the control plane's HTTP API.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/hotswap-db/hotswap/cli/commands"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	app := commands.NewApp(os.Stdout, os.Stderr)
	app.Version = version
	code := commands.Run(ctx, app, os.Args)
	stop()
	os.Exit(code)
}
