// Command hotswapd is the HotSwap control plane server. Started with no
// flags it is a single-node cluster with its data in ./hotswap-data and its
// HTTP API on 127.0.0.1:5000.
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

	"github.com/hotswap-db/hotswap/controlplane/cluster"
	"github.com/hotswap-db/hotswap/controlplane/server"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := newApp().Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "hotswapd:", err)
		os.Exit(1)
	}
}

func newApp() *cli.App {
	return &cli.App{
		Name:    "hotswapd",
		Usage:   "HotSwap control plane server (Raft-replicated)",
		Version: version,
		Description: `Runs one control plane server. With no flags: a single-node cluster, data in
./hotswap-data, HTTP API on 127.0.0.1:5000, agents' gRPC on 127.0.0.1:5001,
Raft on 127.0.0.1:5002, all three over TLS. The first start of a new cluster saves an admin token to
DATA-DIR/bootstrap-token (mode 0600) and prints it once (not to the journal:
see --print-token).

Settings can also come from a YAML file (--config), keyed by flag name:
  http-addr: 10.0.0.1:5000
  peers: [s1=10.0.0.1:5002, s2=10.0.0.2:5002, s3=10.0.0.3:5002]
A flag or its HOTSWAPD_* variable wins over the file. SIGHUP rereads the file
and applies the log level, execution-timeout, monitor-window and threshold-*,
and rereads the TLS certificate files; the rest takes effect on the next start.

TLS is on by default: HTTPS for the API, TLS for the agents' gRPC (mutual with
--tls-verify-agents) and mutually authenticated TLS for Raft, so only servers
holding a certificate of the cluster's CA talk Raft. Make the certificates with
  hotswap tls ca create
  hotswap tls cert create --server --ip 10.0.0.1
and give --tls-ca-cert, --tls-cert and --tls-key; SIGHUP rereads the certificate
files. --plaintext serves all three without TLS (a laptop or a test bed).

Form a new 3-server cluster (same --peers on all three, each its own --server-id):
  hotswapd --server-id s1 --data-dir /var/lib/hotswap --http-addr 10.0.0.1:5000 \
    --rpc-addr 10.0.0.1:5001 --raft-addr 10.0.0.1:5002 \
    --peers s1=10.0.0.1:5002,s2=10.0.0.2:5002,s3=10.0.0.3:5002 \
    --tls-ca-cert hotswap-ca.pem --tls-cert hotswap-server-0.pem --tls-key hotswap-server-0-key.pem

Add a server to a running cluster:
  hotswapd --server-id s4 ... --join https://10.0.0.1:5000 --join-token "$(cat bootstrap-token)"`,
		Flags: append([]cli.Flag{
			configFlag,
			&cli.StringFlag{Name: "server-id", Usage: "this server's id, kept for life in DATA-DIR/server-id (default: generated)", EnvVars: []string{"HOTSWAPD_SERVER_ID"}},
			&cli.StringFlag{Name: "data-dir", Value: "hotswap-data", Usage: "folder for the Raft log, snapshots and the bootstrap token", EnvVars: []string{"HOTSWAPD_DATA_DIR"}},
			&cli.StringFlag{Name: "http-addr", Value: "127.0.0.1:5000", Usage: "HTTP API address (host:port)", EnvVars: []string{"HOTSWAPD_HTTP_ADDR"}},
			&cli.StringFlag{Name: "rpc-addr", Value: "127.0.0.1:5001", Usage: "gRPC address agents dial (host:port)", EnvVars: []string{"HOTSWAPD_RPC_ADDR"}},
			&cli.StringFlag{Name: "raft-addr", Value: "127.0.0.1:5002", Usage: "Raft address other servers reach this one at (host:port, not 0.0.0.0)", EnvVars: []string{"HOTSWAPD_RAFT_ADDR"}},
			&cli.StringFlag{Name: "raft-bind-addr", Usage: "address Raft listens on when other servers reach --raft-addr through a NAT or proxy (default: --raft-addr)", EnvVars: []string{"HOTSWAPD_RAFT_BIND_ADDR"}},
			&cli.StringFlag{Name: "advertise-http-addr", Usage: "HTTP address other servers forward to (default: --http-addr; set it when that is 0.0.0.0)", EnvVars: []string{"HOTSWAPD_ADVERTISE_HTTP_ADDR"}},
			&cli.StringFlag{Name: "advertise-rpc-addr", Usage: "gRPC address agents are redirected to (default: --rpc-addr; set it when that is 0.0.0.0)", EnvVars: []string{"HOTSWAPD_ADVERTISE_RPC_ADDR"}},
			&cli.StringFlag{Name: "peers", Usage: "form a new cluster of these voters: id=raft-host:port,... (only read on first start)", EnvVars: []string{"HOTSWAPD_PEERS"}},
			&cli.StringFlag{Name: "join", Usage: "join the cluster through this member's HTTP address (only read on first start)", EnvVars: []string{"HOTSWAPD_JOIN"}},
			&cli.StringFlag{Name: "join-token", Usage: "admin token used with --join", EnvVars: []string{"HOTSWAPD_JOIN_TOKEN", "HOTSWAP_TOKEN"}},
			&cli.IntFlag{Name: "max-concurrent-executions", Value: 10, Usage: "executions running at once across databases; the rest queue", EnvVars: []string{"HOTSWAPD_MAX_CONCURRENT_EXECUTIONS"}},
			&cli.DurationFlag{Name: "execution-timeout", Value: 30 * time.Minute, Usage: "default timeout of an execution; past it, what was applied is rolled back", EnvVars: []string{"HOTSWAPD_EXECUTION_TIMEOUT"}},
			&cli.DurationFlag{Name: "monitor-window", Value: 2 * time.Minute, Usage: "default watch after each step, against the baseline, before the next step or success", EnvVars: []string{"HOTSWAPD_MONITOR_WINDOW"}},
			&cli.DurationFlag{Name: "token-ttl", Value: 60 * time.Minute, Usage: "how long a login token (hotswap login) lasts", EnvVars: []string{"HOTSWAPD_TOKEN_TTL"}},
			&cli.DurationFlag{Name: "audit-retention", Value: 365 * 24 * time.Hour, Usage: "audit entries younger than this are kept in the cluster; older ones may be archived (hotswap audit archive)", EnvVars: []string{"HOTSWAPD_AUDIT_RETENTION"}},
			&cli.StringFlag{Name: "log-level", Value: "info", Usage: "trace, debug, info, warn or error", EnvVars: []string{"HOTSWAPD_LOG_LEVEL"}},
			&cli.BoolFlag{Name: "log-json", Usage: "log in JSON", EnvVars: []string{"HOTSWAPD_LOG_JSON"}},
			&cli.StringFlag{Name: "bootstrap-token-file", Usage: bootstrapTokenFlagUsage, EnvVars: []string{"HOTSWAPD_BOOTSTRAP_TOKEN_FILE"}},
			&cli.StringFlag{Name: "print-token", Value: "auto", Usage: printTokenUsage, EnvVars: []string{"HOTSWAPD_PRINT_TOKEN"}},
			&cli.StringSliceFlag{Name: "webhook", Usage: "POST approval and rollback events to this URL (repeat for more; signed with --webhook-secret-file)", EnvVars: []string{"HOTSWAPD_WEBHOOK"}},
			&cli.StringFlag{Name: "smtp-addr", Usage: "also mail the approval and rollback events through this SMTP relay (host:port)", EnvVars: []string{"HOTSWAPD_SMTP_ADDR"}},
			&cli.StringFlag{Name: "smtp-from", Usage: "the sender address of the mails", EnvVars: []string{"HOTSWAPD_SMTP_FROM"}},
			&cli.StringSliceFlag{Name: "smtp-to", Usage: "a recipient of the mails (repeat for more)", EnvVars: []string{"HOTSWAPD_SMTP_TO"}},
			&cli.StringFlag{Name: "smtp-username", Usage: "log in to the relay as this user (PLAIN, over TLS or to a local relay)", EnvVars: []string{"HOTSWAPD_SMTP_USERNAME"}},
			&cli.StringFlag{Name: "smtp-password-file", Usage: "file holding the relay password", EnvVars: []string{"HOTSWAPD_SMTP_PASSWORD_FILE"}},
			&cli.StringFlag{Name: "webhook-secret-file", Usage: "file holding the shared secret webhook deliveries are signed with (HMAC-SHA256, header X-Hotswap-Signature)", EnvVars: []string{"HOTSWAPD_WEBHOOK_SECRET_FILE"}},
		}, append(append(tlsFlags(), thresholdFlags()...), tracingFlags()...)...),
		Before: applyConfigFile,
		Action: run,
	}
}

func run(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %v (see --help)", c.Args().Slice())
	}
	peers, err := cluster.ParsePeers(c.String("peers"))
	if err != nil {
		return fmt.Errorf("--peers: %w", err)
	}
	if len(peers) > 0 && c.String("join") != "" {
		return fmt.Errorf("--peers forms a new cluster and --join joins one: give one of them")
	}
	if c.String("join") != "" && c.String("join-token") == "" {
		return fmt.Errorf("--join needs --join-token (an admin token of the cluster)")
	}
	set := settingsFrom(c)
	if err := checkSettings(set); err != nil {
		return err
	}
	tokenOut, err := tokenOutput(c.String("print-token"))
	if err != nil {
		return err
	}
	bootToken, err := readBootstrapToken(c.String("bootstrap-token-file"))
	if err != nil {
		return err
	}
	hooks, err := webhooks(c.StringSlice("webhook"), c.String("webhook-secret-file"))
	if err != nil {
		return err
	}
	mail, err := mailSettings(c)
	if err != nil {
		return err
	}
	certs, err := loadTLS(c)
	if err != nil {
		return err
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "hotswapd", Level: hclog.LevelFromString(set.LogLevel),
		JSONFormat: c.Bool("log-json"), Output: os.Stderr})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tp, err := tracingProvider(ctx, c, os.Getenv)
	if err != nil {
		return err
	}
	defer shutdownTracing(tp, logger)
	srv, err := server.Start(ctx, server.Config{
		ServerID: c.String("server-id"), DataDir: c.String("data-dir"), HTTPAddr: c.String("http-addr"),
		RPCAddr: c.String("rpc-addr"), RaftAddr: c.String("raft-addr"), RaftBindAddr: c.String("raft-bind-addr"), Peers: peers,
		AdvertiseHTTP: c.String("advertise-http-addr"), AdvertiseRPC: c.String("advertise-rpc-addr"),
		JoinAddr: c.String("join"), JoinToken: c.String("join-token"), BootstrapToken: bootToken, Logger: logger, Stdout: tokenOut,
		Version:                 version,
		MaxConcurrentExecutions: c.Int("max-concurrent-executions"), ExecutionTimeout: set.Defaults.Timeout,
		MonitorWindow: set.Defaults.MonitorWindow, Thresholds: set.Defaults.Thresholds, TokenTTL: c.Duration("token-ttl"),
		TLS: certs, VerifyAgents: c.Bool("tls-verify-agents"), HSTSMaxAge: c.Duration("tls-hsts-max-age"),
		Webhooks: hooks, Mail: mail, AuditRetention: c.Duration("audit-retention"), Tracing: tp,
	})
	if err != nil {
		return err
	}
	r := &reloader{args: os.Args, logger: logger, server: srv, certs: srv, current: resolved{settings: set, values: flagValues(c)}}
	go r.watch(ctx, listen())
	<-ctx.Done()
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
