// Package server assembles one hotswapd: the Raft node, the HTTP API, the
// agents' gRPC service, and the work only the leader does.
package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"

	"github.com/hotswap-db/hotswap/controlplane/agentlink"
	"github.com/hotswap-db/hotswap/controlplane/cluster"
	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/controlplane/httpapi"
	"github.com/hotswap-db/hotswap/controlplane/metrics"
	"github.com/hotswap-db/hotswap/controlplane/monitor"
	"github.com/hotswap-db/hotswap/controlplane/notify"
	"github.com/hotswap-db/hotswap/controlplane/orchestrator"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/tlsutil"
	"github.com/hotswap-db/hotswap/proto/agentpb"
)

// Config is everything hotswapd is started with.
type Config struct {
	ServerID string // empty: read from DataDir, or made up on first start
	DataDir  string
	HTTPAddr string
	RPCAddr  string
	RaftAddr string
	// RaftBindAddr is where Raft listens when other servers reach it
	// through RaftAddr by way of a NAT or proxy; empty: RaftAddr.
	RaftBindAddr string
	// AdvertiseHTTP and AdvertiseRPC are the addresses other servers and
	// agents reach this one at; empty means the listen address.
	AdvertiseHTTP string
	AdvertiseRPC  string
	Peers         []cluster.Peer // form a new cluster of these voters
	JoinAddr      string         // HTTP address of a member to join through
	JoinToken     string         // admin token used to join
	// BootstrapToken is the admin token a new cluster starts with; empty:
	// a random one. Given, every server of a new cluster agrees on it
	// whichever is elected first (a Kubernetes Secret, for example).
	BootstrapToken string
	Logger         hclog.Logger
	Stdout         io.Writer // where the bootstrap token is printed once; nil: the token file only
	// MaxConcurrentExecutions bounds executions running at once (default 10).
	MaxConcurrentExecutions int
	// ExecutionTimeout is an execution's default timeout (default 30 min).
	ExecutionTimeout time.Duration
	// MonitorWindow is the default watch after each step (default 2 min).
	MonitorWindow time.Duration
	// TokenTTL is how long a login token lasts (default 60 min).
	TokenTTL time.Duration
	// Thresholds are the default rollback thresholds (zero fields: the reference's).
	Thresholds domain.Thresholds
	// Version is the build version, shown in /health and /openapi.json.
	Version string
	// TLS, when set, serves HTTPS, the agents' gRPC and Raft (mutually
	// authenticated) with these certificates; nil serves all three in
	// plaintext, which hotswapd does only when asked (--plaintext).
	TLS *tlsutil.Store
	// VerifyAgents requires every agent to present a certificate, signed
	// by the CA, that names it (mutual TLS on the agents' link).
	VerifyAgents bool
	// HSTSMaxAge, when TLS is on and it is positive, is announced in a
	// Strict-Transport-Security header on every HTTPS answer.
	HSTSMaxAge time.Duration
	// Webhooks receive the approval and rollback events (controlplane/notify).
	Webhooks []notify.Webhook
	// Mail, when set, mails the same events through an SMTP relay.
	Mail *notify.Mail
	// AuditRetention is how long audit entries stay before they may be archived.
	AuditRetention time.Duration
	// Tracing makes the spans of API requests, executions and steps (nil:
	// none).
	Tracing trace.TracerProvider
}

// maxMessageBytes bounds one agent message: two scripts' worth and more.
const maxMessageBytes = 4*domain.MaxScriptBytes + 1<<20

// Server is a running hotswapd.
type Server struct {
	cfg      Config
	node     *cluster.Node
	links    *agentlink.Server
	orch     *orchestrator.Orchestrator
	samples  *monitor.Store
	api      *httpapi.API
	http     *http.Server
	grpc     *grpc.Server
	leaderCh chan bool
	cancel   context.CancelFunc
	done     chan struct{}
}

// Start opens the data folder, starts Raft and the listeners, and returns
// once they are serving.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	id, err := serverID(cfg)
	if err != nil {
		return nil, err
	}
	cfg.ServerID = id
	s := &Server{cfg: cfg, leaderCh: make(chan bool, 8), done: make(chan struct{})}
	self := domain.Server{ID: id, HTTPAddr: orDefault(cfg.AdvertiseHTTP, cfg.HTTPAddr),
		RPCAddr: orDefault(cfg.AdvertiseRPC, cfg.RPCAddr), RaftAddr: cfg.RaftAddr}
	s.node, err = cluster.Open(ctx, cluster.Config{Self: self, RaftBind: cfg.RaftBindAddr, DataDir: cfg.DataDir, Peers: cfg.Peers,
		Join: cfg.JoinAddr != "", Logger: cfg.Logger, LeaderNotify: s.leaderCh, TLS: cfg.TLS})
	if err != nil {
		return nil, err
	}
	s.links = agentlink.New(agentlink.Config{Raft: s.node, Logger: cfg.Logger.Named("agentlink"), HashToken: httpapi.HashToken,
		VerifyPeer: s.agentPeerCheck()})
	s.samples = monitor.NewStore(0)
	s.orch = orchestrator.New(orchestrator.Config{Raft: s.node, Dispatcher: s.links, Logger: cfg.Logger.Named("orchestrator"),
		MaxConcurrent: cfg.MaxConcurrentExecutions, Store: s.samples, Tracing: cfg.Tracing})
	s.links.SetSink(s.orch)
	if err := s.listen(); err != nil {
		s.node.Shutdown()
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.watchLeadership(runCtx)
	go s.watchRemoved(runCtx)
	go s.recordAddresses(runCtx)
	if cfg.JoinAddr != "" {
		go s.join(runCtx)
	}
	return s, nil
}

func orDefault(v, def string) string {
	if v != "" {
		return v
	}
	return def
}

// serverID returns the configured id, the one saved in the data folder, or
// a new one saved there. A server keeps its id for life.
func serverID(cfg Config) (string, error) {
	path := filepath.Join(cfg.DataDir, "server-id")
	saved, err := os.ReadFile(path)
	switch {
	case err == nil && cfg.ServerID != "" && strings.TrimSpace(string(saved)) != cfg.ServerID:
		return "", fmt.Errorf("data dir %s belongs to server %q, not %q", cfg.DataDir, strings.TrimSpace(string(saved)), cfg.ServerID)
	case err == nil:
		return strings.TrimSpace(string(saved)), nil
	case !errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("read server id: %w", err)
	}
	id := cfg.ServerID
	if id == "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		id = "server-" + hex.EncodeToString(b)
	}
	if !domain.ValidName(id) {
		return "", fmt.Errorf("server id %q: use letters, digits, '_', '.', '-'", id)
	}
	if err := os.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("save server id: %w", err)
	}
	return id, nil
}

func (s *Server) listen() error {
	httpLn, err := net.Listen("tcp", s.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen for HTTP on %s: %w", s.cfg.HTTPAddr, err)
	}
	if s.cfg.TLS != nil {
		httpLn = tls.NewListener(httpLn, s.cfg.TLS.ServerConfig(tls.VerifyClientCertIfGiven, nil, "h2", "http/1.1"))
	}
	rpcLn, err := net.Listen("tcp", s.cfg.RPCAddr)
	if err != nil {
		httpLn.Close()
		return fmt.Errorf("listen for agents on %s: %w", s.cfg.RPCAddr, err)
	}
	reg := metrics.New(s.node, s.links, s.samples)
	s.api = httpapi.New(httpapi.Config{Raft: s.node, Presence: s.links, Logger: s.cfg.Logger.Named("http"),
		Metrics: reg.Handler(), ObserveValidation: reg.ObserveValidation, History: s.links, Catalog: s.links, ExecutionTimeout: s.cfg.ExecutionTimeout,
		MonitorWindow: s.cfg.MonitorWindow, Thresholds: s.cfg.Thresholds, Samples: s.samples,
		Version: s.cfg.Version, TokenTTL: s.cfg.TokenTTL, PeerTLS: s.peerTLS(), AuditRetention: s.cfg.AuditRetention,
		Tracing: s.cfg.Tracing})
	s.http = &http.Server{Handler: hsts(s.api.Handler(), s.cfg.TLS != nil, s.cfg.HSTSMaxAge), ReadHeaderTimeout: 10 * time.Second}
	s.http.RegisterOnShutdown(s.api.Close)
	s.grpc = grpc.NewServer(
		s.grpcCreds(),
		// A step carries a script of up to 10 MB; its result carries the statements.
		grpc.MaxRecvMsgSize(maxMessageBytes), grpc.MaxSendMsgSize(maxMessageBytes),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 10 * time.Second, Timeout: 5 * time.Second}),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
	)
	agentpb.RegisterAgentLinkServer(s.grpc, s.links)
	go func() { _ = s.http.Serve(httpLn) }()
	go func() { _ = s.grpc.Serve(rpcLn) }()
	s.cfg.Logger.Info("serving", "server_id", s.cfg.ServerID, "http", s.cfg.HTTPAddr, "rpc", s.cfg.RPCAddr, "raft", s.cfg.RaftAddr)
	return nil
}

// ID returns the server's id.
func (s *Server) ID() string { return s.cfg.ServerID }

// Shutdown stops serving and closes the data folder.
func (s *Server) Shutdown(ctx context.Context) error {
	s.cancel()
	<-s.done
	err := s.http.Shutdown(ctx)
	// Agents' streams never end by themselves: end them first, or the
	// graceful stop waits for its deadline.
	s.links.Shutdown()
	stopped := make(chan struct{})
	go func() { s.grpc.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-ctx.Done():
		s.grpc.Stop()
	}
	s.node.Shutdown()
	return err
}

// watchLeadership starts the leader's work on gaining leadership and stops
// it on losing it. Nothing else depends on being the leader.
func (s *Server) watchLeadership(ctx context.Context) {
	defer close(s.done)
	var stopLeading context.CancelFunc = func() {}
	for {
		select {
		case <-ctx.Done():
			stopLeading()
			return
		case isLeader := <-s.leaderCh:
			stopLeading()
			if !isLeader {
				s.cfg.Logger.Info("lost leadership")
				s.links.LeadershipLost()
				stopLeading = func() {}
				continue
			}
			var lctx context.Context
			lctx, stopLeading = context.WithCancel(ctx)
			go s.lead(lctx)
		}
	}
}

// lead is the leader's start-up: wait until every committed entry is
// applied, then record this server's addresses and make sure an admin
// token exists.
func (s *Server) lead(ctx context.Context) {
	s.cfg.Logger.Info("gained leadership")
	if err := s.node.Barrier(30 * time.Second); err != nil {
		s.cfg.Logger.Error("barrier after election", "error", err)
		return
	}
	self := s.node.Self()
	if s.node.State().Servers()[self.ID] != self {
		if _, err := s.node.Apply(ctx, fsm.RegisterServerRequest{Server: self}); err != nil {
			s.cfg.Logger.Error("register server addresses", "error", err)
		}
	}
	if !s.node.State().HasAPITokens() {
		if err := s.createBootstrapToken(ctx); err != nil {
			s.cfg.Logger.Error("create bootstrap token", "error", err)
		}
	}
	if len(s.node.State().SigningKey()) == 0 {
		if err := s.createSigningKey(ctx); err != nil {
			s.cfg.Logger.Error("create token signing key", "error", err)
		}
	}
	wait := notify.New(notify.Config{Webhooks: s.cfg.Webhooks, Mail: s.cfg.Mail, Logger: s.cfg.Logger.Named("notify")}, s.node.State()).Start(ctx)
	defer wait()
	s.orch.Run(ctx)
}

// createBootstrapToken makes the first admin token of a new cluster, commits
// its hash, writes it to DATA/bootstrap-token (0600) and prints it once.
func (s *Server) createBootstrapToken(ctx context.Context) error {
	token := s.cfg.BootstrapToken
	if token == "" {
		token = httpapi.NewToken("hst_")
	}
	rec := domain.APIToken{TokenID: "tok-bootstrap", Name: "bootstrap-admin", Role: "Admin",
		CreatedAt: time.Now().UTC().Truncate(time.Millisecond)}
	if _, err := s.node.Apply(ctx, fsm.CreateAPITokenRequest{Token: rec, Hash: httpapi.HashToken(token)}); err != nil {
		return err
	}
	path := filepath.Join(s.cfg.DataDir, "bootstrap-token")
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if s.cfg.Stdout == nil {
		s.cfg.Logger.Info("bootstrap admin token saved", "file", path)
		return nil
	}
	fmt.Fprintf(s.cfg.Stdout, "\nBootstrap admin token (shown once, also saved to %s):\n\n    %s\n\n", path, token)
	return nil
}

// createSigningKey makes the key login tokens are signed with. It is drawn
// here, on the leader, before the Raft call: the FSM takes no randomness,
// and every server then verifies the tokens any of them issued.
func (s *Server) createSigningKey(ctx context.Context) error {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("draw signing key: %w", err)
	}
	if _, err := s.node.Apply(ctx, fsm.SetSigningKeyRequest{Key: key}); err != nil {
		return fmt.Errorf("commit signing key: %w", err)
	}
	return nil
}

// SetExecutionDefaults changes the defaults of executions created from now
// on (timeout, monitor window, rollback thresholds).
func (s *Server) SetExecutionDefaults(d httpapi.ExecutionDefaults) {
	s.api.SetExecutionDefaults(d)
}
