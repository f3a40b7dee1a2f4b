package testbed

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
)

// Binaries are the built HotSwap programs the test bed runs.
type Binaries struct {
	Server string // hotswapd
	Agent  string // hotswap-agent
	CLI    string // hotswap
}

// BuildBinaries builds hotswapd, hotswap-agent and hotswap into dir with
// `go build`, from the module this package belongs to.
func BuildBinaries(ctx context.Context, dir string) (Binaries, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return Binaries{}, err
	}
	b := Binaries{Server: filepath.Join(dir, "hotswapd"), Agent: filepath.Join(dir, "hotswap-agent"), CLI: filepath.Join(dir, "hotswap")}
	pkgs := map[string]string{b.Server: "./controlplane/cmd/hotswapd", b.Agent: "./agent/cmd/hotswap-agent", b.CLI: "./cli/cmd/hotswap"}
	for out, pkg := range pkgs {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
		cmd.Dir = root
		if msg, err := cmd.CombinedOutput(); err != nil {
			return Binaries{}, fmt.Errorf("go build %s: %w\n%s", pkg, err, msg)
		}
	}
	return b, nil
}

// MainWithBinaries is the body of a TestMain whose tests run the programs:
// it builds them once into a temporary folder, fills *bins, runs the tests
// and removes the folder. It returns the exit code for os.Exit.
func MainWithBinaries(m *testing.M, bins *Binaries) int {
	dir, err := os.MkdirTemp("", "hotswap-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	*bins, err = BuildBinaries(ctx, dir)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "build binaries:", err)
		return 1
	}
	return m.Run()
}

func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the hotswap module")
	}
	return filepath.Dir(mod), nil
}

// Server is a hotswapd process of the test bed.
type Server struct {
	ID       string
	HTTPAddr string
	RPCAddr  string
	RaftAddr string
	DataDir  string
	LogPath  string
	bin      string
	args     []string
	cmd      *exec.Cmd
	exited   chan struct{}
	client   *http.Client // HTTPS when the server runs with TLS
	scheme   string
	// CertFile and KeyFile are the server's certificate and key when it
	// runs with TLS: overwrite them and Reload to renew.
	CertFile string
	KeyFile  string
	// RaftProxy, when the server was prepared with one, stands in front of
	// its Raft listener: every other server reaches it through the proxy
	// (RaftAddr is the proxy's address), so cutting it partitions the
	// server from the others' Raft traffic.
	RaftProxy *Proxy
	// HTTPProxy, when the server was prepared with one, stands in front of
	// its HTTP listener for the other servers: it advertises the proxy's
	// address, so the writes they forward to it, when it leads, pass
	// through the proxy (clients of the test still dial HTTPAddr).
	HTTPProxy *Proxy
}

// ServerOptions says how to start a hotswapd.
type ServerOptions struct {
	ID        string // default: "s1"
	Peers     string // --peers, to form a multi-server cluster
	Join      string // --join
	JoinToken string
	Ports     [3]int   // http, rpc, raft; zero: free ports
	Args      []string // more hotswapd flags
	// TLS, when set, runs the server with a certificate of this CA; nil
	// runs it with --plaintext.
	TLS *TLS
	// RaftProxy puts a Proxy in front of the server's Raft listener (see
	// Server.RaftProxy); Close closes it.
	RaftProxy bool
	// HTTPProxy puts a Proxy in front of the server's HTTP listener for
	// the other servers (see Server.HTTPProxy); Close closes it.
	HTTPProxy bool
}

// NewServer prepares a hotswapd in a fresh folder under dir, without
// starting it.
func NewServer(bin, dir string, opts ServerOptions) (*Server, error) {
	if opts.ID == "" {
		opts.ID = "s1"
	}
	for i := range opts.Ports {
		if opts.Ports[i] == 0 {
			p, err := FreePort()
			if err != nil {
				return nil, err
			}
			opts.Ports[i] = p
		}
	}
	s := &Server{ID: opts.ID, bin: bin,
		HTTPAddr: fmt.Sprintf("127.0.0.1:%d", opts.Ports[0]), RPCAddr: fmt.Sprintf("127.0.0.1:%d", opts.Ports[1]),
		RaftAddr: fmt.Sprintf("127.0.0.1:%d", opts.Ports[2]),
		DataDir:  filepath.Join(dir, opts.ID, "data"), LogPath: filepath.Join(dir, opts.ID, "hotswapd.log")}
	s.args = []string{"--server-id", s.ID, "--data-dir", s.DataDir, "--http-addr", s.HTTPAddr,
		"--rpc-addr", s.RPCAddr, "--log-level", "debug",
		"--monitor-window", "0s"} // tests ask for a monitor window per execution
	if err := s.raftArgs(opts.RaftProxy); err != nil {
		return nil, err
	}
	if opts.HTTPProxy {
		p, err := NewProxy(s.HTTPAddr)
		if err != nil {
			return nil, err
		}
		s.HTTPProxy = p
		s.args = append(s.args, "--advertise-http-addr", p.Addr())
	}
	if opts.Peers != "" {
		s.args = append(s.args, "--peers", opts.Peers)
	}
	if opts.Join != "" {
		s.args = append(s.args, "--join", opts.Join, "--join-token", opts.JoinToken)
	}
	s.client, s.scheme = http.DefaultClient, "http"
	if opts.TLS == nil {
		s.args = append(s.args, "--plaintext")
	} else {
		tlsArgs, err := opts.TLS.serverArgs(s.ID)
		if err != nil {
			return nil, err
		}
		s.CertFile, s.KeyFile = tlsArgs[3], tlsArgs[5]
		if s.client, err = opts.TLS.HTTPClient(); err != nil {
			return nil, err
		}
		s.args, s.scheme = append(s.args, tlsArgs...), "https"
	}
	s.args = append(s.args, opts.Args...)
	return s, os.MkdirAll(filepath.Dir(s.LogPath), 0o700)
}

// raftArgs sets the Raft flags: the server listens on RaftAddr, or, with
// a proxy, behind a new Proxy whose address it advertises.
func (s *Server) raftArgs(proxy bool) error {
	if !proxy {
		s.args = append(s.args, "--raft-addr", s.RaftAddr)
		return nil
	}
	p, err := NewProxy(s.RaftAddr)
	if err != nil {
		return err
	}
	s.RaftProxy = p
	s.args = append(s.args, "--raft-addr", p.Addr(), "--raft-bind-addr", s.RaftAddr)
	s.RaftAddr = p.Addr()
	return nil
}

// Close kills the process and closes its Raft proxy, if any.
func (s *Server) Close() {
	s.Kill()
	if s.RaftProxy != nil {
		s.RaftProxy.Close()
	}
	if s.HTTPProxy != nil {
		s.HTTPProxy.Close()
	}
}

// StartServer starts a single hotswapd for a test and waits until it
// answers; it is killed when the test ends.
func StartServer(tb testing.TB, bins Binaries, opts ServerOptions) *Server {
	tb.Helper()
	s, err := NewServer(bins.Server, tb.TempDir(), opts)
	if err != nil {
		tb.Fatalf("prepare hotswapd: %v", err)
	}
	tb.Cleanup(s.Close)
	if err := s.Start(context.Background()); err != nil {
		tb.Fatalf("start hotswapd: %v", err)
	}
	return s
}

// StartCluster starts n servers forming one cluster, and waits until each
// answers. It does not wait for a leader: use WaitLeader.
func StartCluster(tb testing.TB, bins Binaries, n int) []*Server {
	tb.Helper()
	return StartTLSCluster(tb, bins, n, nil)
}

// StartTLSCluster is StartCluster with every server's certificate signed
// by ca (nil: --plaintext).
func StartTLSCluster(tb testing.TB, bins Binaries, n int, ca *TLS) []*Server {
	tb.Helper()
	return StartClusterWith(tb, bins, n, ClusterOptions{TLS: ca})
}

// StartClusterWith is StartCluster with opts; the servers (and their
// proxies) are closed when the test ends.
func StartClusterWith(tb testing.TB, bins Binaries, n int, opts ClusterOptions) []*Server {
	tb.Helper()
	servers, err := NewCluster(context.Background(), bins.Server, tb.TempDir(), n, opts)
	for _, s := range servers {
		tb.Cleanup(s.Close)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return servers
}

// ClusterOptions says how to start the servers of a cluster.
type ClusterOptions struct {
	TLS *TLS // as in ServerOptions
	// RaftProxies puts a Proxy in front of every server's Raft listener.
	RaftProxies bool
	// HTTPProxies puts a Proxy in front of every server's HTTP listener,
	// for the writes the others forward to it.
	HTTPProxies bool
}

// NewCluster prepares n servers s1..sn in folders under dir, forming one
// cluster, and starts each. It does not wait for a leader. On an error the
// servers it returns are the ones to Close.
func NewCluster(ctx context.Context, bin, dir string, n int, opts ClusterOptions) ([]*Server, error) {
	servers := make([]*Server, 0, n)
	var peers []string
	for i := 0; i < n; i++ {
		s, err := NewServer(bin, dir, ServerOptions{ID: fmt.Sprintf("s%d", i+1), TLS: opts.TLS, RaftProxy: opts.RaftProxies,
			HTTPProxy: opts.HTTPProxies})
		if err != nil {
			return servers, fmt.Errorf("prepare hotswapd: %w", err)
		}
		servers = append(servers, s)
		peers = append(peers, s.ID+"="+s.RaftAddr)
	}
	for _, s := range servers {
		s.args = append(s.args, "--peers", strings.Join(peers, ","))
		if err := s.Start(ctx); err != nil {
			return servers, fmt.Errorf("start %s: %w", s.ID, err)
		}
	}
	return servers, nil
}

// Start launches the process (again, after Kill or Stop, with the same
// ports and data) and waits until /health answers.
func (s *Server) Start(ctx context.Context) error {
	logf, err := os.OpenFile(s.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	cmd := exec.Command(s.bin, s.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(s.exited) }()
	return s.waitHealthy(ctx)
}

func (s *Server) waitHealthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		resp, err := s.client.Get(s.URL() + "/health")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("hotswapd %s exited during start-up:\n%s", s.ID, tail(s.LogPath))
		case <-ctx.Done():
			return fmt.Errorf("hotswapd %s did not answer on %s:\n%s", s.ID, s.HTTPAddr, tail(s.LogPath))
		case <-time.After(pollInterval):
		}
	}
}

// URL is the server's HTTP base address.
func (s *Server) URL() string { return s.scheme + "://" + s.HTTPAddr }

// HTTPClient is a client of the server's API: HTTPS trusting the test
// bed's CA when the server runs with TLS.
func (s *Server) HTTPClient() *http.Client { return s.client }

// Reload sends SIGHUP: hotswapd rereads its config and certificates.
func (s *Server) Reload() error {
	if !s.Running() {
		return fmt.Errorf("hotswapd %s is not running", s.ID)
	}
	return s.cmd.Process.Signal(syscall.SIGHUP)
}

// Running reports whether the process is alive.
func (s *Server) Running() bool {
	if s.exited == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// Kill ends the process with SIGKILL, as a crash would.
func (s *Server) Kill() { s.signal(syscall.SIGKILL) }

// Stop ends the process with SIGTERM and waits for it.
func (s *Server) Stop() { s.signal(syscall.SIGTERM) }

// Signal sends sig to the process and returns at once (see Exited).
func (s *Server) Signal(sig syscall.Signal) error {
	if !s.Running() {
		return fmt.Errorf("hotswapd %s is not running", s.ID)
	}
	return s.cmd.Process.Signal(sig)
}

// Exited is closed when the process started last has exited.
func (s *Server) Exited() <-chan struct{} { return s.exited }

func (s *Server) signal(sig syscall.Signal) {
	if !s.Running() {
		return
	}
	_ = s.cmd.Process.Signal(sig)
	select {
	case <-s.exited:
	case <-time.After(stopTimeout):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// Token waits for the bootstrap token file and returns the token.
func (s *Server) Token(ctx context.Context) (string, error) {
	return waitFile(ctx, filepath.Join(s.DataDir, "bootstrap-token"))
}

// Log returns everything the process has logged so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.LogPath)
	return string(b)
}

func waitFile(ctx context.Context, path string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return strings.TrimSpace(string(b)), nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("wait for %s: %w", path, ctx.Err())
		case <-time.After(pollInterval):
		}
	}
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > logTailBytes {
		b = b[len(b)-logTailBytes:]
	}
	return string(b)
}

// Agent is a hotswap-agent process of the test bed.
type Agent struct {
	ConfigPath string
	LogPath    string
	bin        string
	cmd        *exec.Cmd
	exited     chan struct{}
}

// NewAgent writes cfg, the agent's config, to dir/agent.yaml (mode 0600)
// and starts an agent on it.
func NewAgent(bin, dir string, cfg agentconfig.Config) (*Agent, error) {
	a := &Agent{ConfigPath: filepath.Join(dir, "agent.yaml"), LogPath: filepath.Join(dir, "agent.log"), bin: bin}
	if cfg.TLS == (agentconfig.TLSConfig{}) {
		cfg.TLS.Plaintext = true // the test bed's servers run with --plaintext unless given a CA
	}
	if err := agentconfig.Write(a.ConfigPath, cfg); err != nil {
		return nil, err
	}
	return a, a.Start()
}

// StartAgent starts an agent on cfg for a test; it is killed when the test ends.
func StartAgent(tb testing.TB, bins Binaries, cfg agentconfig.Config) *Agent {
	tb.Helper()
	a, err := NewAgent(bins.Agent, tb.TempDir(), cfg)
	if a != nil {
		tb.Cleanup(a.Kill)
	}
	if err != nil {
		tb.Fatalf("start agent: %v", err)
	}
	return a
}

// Start launches the agent process (again, after Kill).
func (a *Agent) Start() error {
	logf, err := os.OpenFile(a.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open agent log: %w", err)
	}
	cmd := exec.Command(a.bin, "--config", a.ConfigPath, "--log-level", "debug")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start agent: %w", err)
	}
	a.cmd, a.exited = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(a.exited) }()
	return nil
}

// Kill ends the agent with SIGKILL.
func (a *Agent) Kill() {
	if a.cmd == nil {
		return
	}
	select {
	case <-a.exited:
		return
	default:
	}
	_ = a.cmd.Process.Kill()
	<-a.exited
}

// Running reports whether the agent process is alive (a frozen one is).
func (a *Agent) Running() bool {
	if a.exited == nil {
		return false
	}
	select {
	case <-a.exited:
		return false
	default:
		return true
	}
}

// Signal sends sig to the running agent: SIGSTOP freezes it, SIGCONT
// thaws it.
func (a *Agent) Signal(sig syscall.Signal) error {
	if a.cmd == nil {
		return errors.New("the agent was never started")
	}
	return a.cmd.Process.Signal(sig)
}

// Log returns everything the agent has logged so far.
func (a *Agent) Log() string {
	b, _ := os.ReadFile(a.LogPath)
	return string(b)
}
