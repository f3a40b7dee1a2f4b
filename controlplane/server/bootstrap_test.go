package server

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestGivenBootstrapTokenIsKeptQuiet starts a single-node cluster with a
// given admin token and no stdout: the token file holds that token, the
// API accepts it, and the log never shows it.
func TestGivenBootstrapTokenIsKeptQuiet(t *testing.T) {
	token := "hst_" + strings.Repeat("ab", 32)
	var logs syncBuffer
	dir := t.TempDir()
	srv, err := Start(t.Context(), Config{DataDir: dir, HTTPAddr: freeAddr(t), RPCAddr: freeAddr(t), RaftAddr: freeAddr(t),
		BootstrapToken: token, Logger: hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info})})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	path := filepath.Join(dir, "bootstrap-token")
	var saved []byte
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if saved, err = os.ReadFile(path); err == nil && len(saved) > 0 {
			break
		}
	}
	if strings.TrimSpace(string(saved)) != token {
		t.Fatalf("%s = %q, want the given token", path, saved)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", "http://"+srv.cfg.HTTPAddr+"/api/v1/cluster", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /api/v1/cluster with the given token: %d, want 200", resp.StatusCode)
	}
	if strings.Contains(logs.String(), token) {
		t.Error("the log shows the admin token")
	}
	if !strings.Contains(logs.String(), "bootstrap admin token saved") {
		t.Errorf("the log does not say where the token is:\n%s", logs.String())
	}
}
