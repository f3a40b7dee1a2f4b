package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hotswapd is the control plane every test of this package talks to: a real
// single-node server built from this module and started once by TestMain.
var hotswapd *testServer

// testServer is a running hotswapd subprocess.
type testServer struct {
	cmd     *exec.Cmd
	addr    string // HTTP API, host:port
	token   string // the bootstrap admin token
	dataDir string
	logPath string
}

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	for _, k := range []string{"HOTSWAP_ADDR", "HOTSWAP_TOKEN", "HOTSWAP_TOKEN_FILE"} {
		_ = os.Unsetenv(k) // the tests choose the address and token themselves
	}
	dir, err := os.MkdirTemp("", "hotswap-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "TestMain:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	srv, err := startServer(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "TestMain: cannot start hotswapd:", err)
		return 1
	}
	defer srv.stop()
	hotswapd = srv
	return m.Run()
}

// startServer builds hotswapd into dir and starts it on free loopback ports.
func startServer(dir string) (*testServer, error) {
	bin := filepath.Join(dir, "hotswapd")
	build := exec.Command("go", "build", "-o", bin, "github.com/hotswap-db/hotswap/controlplane/cmd/hotswapd")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build hotswapd: %w\n%s", err, out)
	}
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	s := &testServer{addr: ports[0], dataDir: filepath.Join(dir, "data"), logPath: filepath.Join(dir, "hotswapd.log")}
	logf, err := os.Create(s.logPath)
	if err != nil {
		return nil, fmt.Errorf("create log: %w", err)
	}
	defer logf.Close()
	s.cmd = exec.Command(bin, "--data-dir", s.dataDir, "--http-addr", ports[0], "--rpc-addr", ports[1],
		"--raft-addr", ports[2], "--log-level", "warn", "--plaintext")
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start hotswapd: %w", err)
	}
	if err := s.waitReady(20 * time.Second); err != nil {
		s.stop()
		log, _ := os.ReadFile(s.logPath)
		return nil, fmt.Errorf("%w\nhotswapd log:\n%s", err, log)
	}
	return s, nil
}

// freePorts returns n loopback addresses that were free a moment ago.
func freePorts(n int) ([]string, error) {
	var addrs []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer l.Close()
		addrs = append(addrs, l.Addr().String())
	}
	return addrs, nil
}

// waitReady polls until the server has a leader and has written its
// bootstrap token.
func (s *testServer) waitReady(timeout time.Duration) error {
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()
	deadline := time.After(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("hotswapd exited early: %v", err)
		case <-deadline:
			return errors.New("hotswapd not ready in time")
		case <-tick.C:
			if s.ready() {
				go func() { <-exited }()
				return nil
			}
		}
	}
}

func (s *testServer) ready() bool {
	resp, err := http.Get("http://" + s.addr + "/health")
	if err != nil {
		return false
	}
	var h struct{ Status string }
	err = json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if err != nil || h.Status != "ok" {
		return false
	}
	tok, err := os.ReadFile(filepath.Join(s.dataDir, "bootstrap-token"))
	if err != nil || strings.TrimSpace(string(tok)) == "" {
		return false
	}
	s.token = strings.TrimSpace(string(tok))
	return true
}

// stop ends the server by its PID: SIGTERM, then SIGKILL if it lingers.
func (s *testServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	for range 100 {
		if err := s.cmd.Process.Signal(syscall.Signal(0)); err != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = s.cmd.Process.Kill()
}

// result is what one run of the CLI did.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the app in-process with args (without the program name),
// stdin as its input.
func runCLI(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return runCLIContext(ctx, stdin, args...)
}

// runCLIContext is runCLI under ctx: cancelling it is the user's Ctrl-C.
func runCLIContext(ctx context.Context, stdin string, args ...string) result {
	var out, errOut bytes.Buffer
	app := NewApp(&out, &errOut)
	app.Reader = strings.NewReader(stdin)
	code := Run(ctx, app, append([]string{"hotswap"}, args...))
	return result{code, out.String(), errOut.String()}
}

// hs runs the CLI against the test server with its admin token.
func hs(t *testing.T, args ...string) result {
	t.Helper()
	return runCLI(t, "", append([]string{"--address", hotswapd.addr, "--token", hotswapd.token}, args...)...)
}

// mustHS runs hs and fails the test unless it succeeds.
func mustHS(t *testing.T, args ...string) string {
	t.Helper()
	r := hs(t, args...)
	if r.code != ExitOK {
		t.Fatalf("hotswap %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}
