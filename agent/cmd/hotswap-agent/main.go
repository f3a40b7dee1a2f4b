// Command hotswap-agent runs on a database host: it keeps the credentials of
// the instances there, dials out to the HotSwap control plane and reports
// what it finds by asking the databases themselves.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/agent"
	"github.com/hotswap-db/hotswap/internal/tracing"
)

func main() {
	if err := newApp().Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "hotswap-agent:", err)
		os.Exit(1)
	}
}

func newApp() *cli.App {
	return &cli.App{
		Name:    "hotswap-agent",
		Usage:   "HotSwap agent for the database instances on this host",
		Version: agent.Version,
		Description: `Reads its config file (YAML), dials the control plane over gRPC, and reports
its instances: engine, server version, role found by asking the database,
replication links. Connection strings stay in the config file on this host.

Example config (see packaging/agent.example.yaml):
  name: db-host-1
  token_file: /etc/hotswap/agent.token
  servers: ["10.0.0.1:5001", "10.0.0.2:5001", "10.0.0.3:5001"]
  tls:
    ca_cert: /etc/hotswap/tls/hotswap-ca.pem    # required, or plaintext: true
    # cert_file/key_file: hotswap tls cert create --agent db-host-1 (servers with --tls-verify-agents)
  instances:
    - id: main
      engine: PostgreSQL
      dsn: postgres://hotswap_agent:secret@127.0.0.1:5432/app?sslmode=disable`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "config file", Value: "/etc/hotswap/agent.yaml", EnvVars: []string{"HOTSWAP_AGENT_CONFIG"}},
			&cli.StringFlag{Name: "log-level", Usage: "override the config's log_level"},
			&cli.BoolFlag{Name: "log-json", Usage: "log in JSON"},
		},
		Action: run,
	}
}

func run(c *cli.Context) error {
	cfg, err := agent.LoadConfig(c.String("config"))
	if err != nil {
		return err
	}
	level := cfg.LogLevel
	if c.String("log-level") != "" {
		level = c.String("log-level")
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "hotswap-agent", Level: hclog.LevelFromString(level),
		JSONFormat: c.Bool("log-json"), Output: os.Stderr})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger.Info("starting", "name", cfg.Name, "servers", cfg.Servers, "instances", len(cfg.Instances))
	tp, err := tracing.New(ctx, tracing.Config{Endpoint: cfg.Tracing.OTLPEndpoint, Insecure: cfg.Tracing.Insecure,
		SampleRatio: cfg.Tracing.Ratio(), ServiceName: "hotswap-agent", ServiceVersion: agent.Version, Getenv: os.Getenv})
	if err != nil {
		return err
	}
	defer shutdownTracing(tp, logger)
	a := agent.New(cfg, logger)
	a.UseTracing(tp)
	return a.Run(ctx)
}

// shutdownTracing sends the spans still buffered, waiting a few seconds
// at most for the collector.
func shutdownTracing(tp *tracing.Provider, logger hclog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tp.Shutdown(ctx); err != nil {
		logger.Warn("tracing", "error", err)
	}
}
