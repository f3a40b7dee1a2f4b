package e2e

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	wire "github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// hotswapAt runs the hotswap program against server s.
func hotswapAt(t *testing.T, s *testbed.Server, tok string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bins.CLI, append([]string{"--address", s.URL(), "--token", tok}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	var ee *exec.ExitError
	if err := cmd.Run(); err != nil && !errors.As(err, &ee) {
		t.Fatalf("run hotswap %v: %v", args, err)
	}
	return cliResult{stdout: out.String(), stderr: errOut.String(), code: cmd.ProcessState.ExitCode()}
}

// TestClusterOperations: cluster status shows every server's addresses and
// whether it answers; an unknown server cannot be removed (404); a removed
// server says so and can join again; without a leader, status exits 1 and
// names quorum; SIGTERM stops a server quickly.
func TestClusterOperations(t *testing.T) {
	servers := testbed.StartCluster(t, bins, 3)
	tok := bootstrapToken(t, servers)
	leader := leaderOf(t, servers, tok)
	f := followers(servers, leader)

	// The followers of a --peers cluster never led: each records its own
	// addresses through the leader.
	eventually(t, 30*time.Second, "every server's HTTP and gRPC addresses in the cluster status", func() bool {
		return everyAddressRecorded(clusterStatus(t, f[1], tok), servers)
	})
	r := hotswapAt(t, f[0], tok, "cluster", "status")
	if r.code != 0 {
		t.Fatalf("cluster status: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Every server's id, Raft, HTTP and gRPC address.
	want := []string{"REACHABLE"}
	for _, s := range servers {
		want = append(want, s.ID, s.RaftAddr, s.HTTPAddr+"  "+s.RPCAddr)
	}
	for _, w := range want {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("cluster status does not show %q:\n%s", w, r.stdout)
		}
	}
	if !strings.Contains(r.stdout, "voter     yes     yes") || strings.Count(r.stdout, "voter     no      yes") != 2 {
		t.Errorf("cluster status does not say the leader and both followers are reachable:\n%s", r.stdout)
	}

	r = hotswapAt(t, f[0], tok, "cluster", "remove", "nosuch")
	if r.code != 1 || !strings.Contains(r.stderr, `server "nosuch" is not in the Raft configuration`) {
		t.Errorf("remove an unknown server: exit %d, stderr %q; want 1 and a 404 naming it", r.code, r.stderr)
	}

	gone := f[1]
	if r := hotswapAt(t, f[0], tok, "cluster", "remove", gone.ID); r.code != 0 {
		t.Fatalf("cluster remove %s: exit %d\n%s", gone.ID, r.code, r.stderr)
	}
	eventually(t, 30*time.Second, "the removed server's /health to say removed", func() bool {
		resp := newAPI(t, gone, "", nil).do("GET", "/health", nil)
		return resp.Status == http.StatusServiceUnavailable && strings.Contains(string(resp.Body), `"removed"`)
	})
	eventually(t, 10*time.Second, "the removed server's log to say so", func() bool {
		b, _ := readFile(gone.LogPath)
		return strings.Contains(b, "this server was removed from the cluster's Raft configuration")
	})
	r = hotswapAt(t, f[0], tok, "cluster", "join", gone.ID, gone.RaftAddr, "--http-addr", gone.HTTPAddr, "--rpc-addr", gone.RPCAddr)
	if r.code != 0 {
		t.Fatalf("cluster join %s: exit %d\n%s%s", gone.ID, r.code, r.stdout, r.stderr)
	}
	eventually(t, 30*time.Second, "the server to be back", func() bool {
		return len(clusterStatus(t, f[0], tok).Servers) == 3 &&
			newAPI(t, gone, "", nil).do("GET", "/health", nil).Status == http.StatusOK
	})
	if r := hotswapAt(t, f[0], tok, "cluster", "status"); !strings.Contains(r.stdout, gone.HTTPAddr) {
		t.Errorf("cluster status after the join does not show %s's HTTP address %s:\n%s", gone.ID, gone.HTTPAddr, r.stdout)
	}

	for _, s := range []*testbed.Server{f[1], leader} {
		s.Stop()
	}
	eventually(t, 30*time.Second, "the last server to know it has no leader", func() bool {
		return clusterStatus(t, f[0], tok).Leader == ""
	})
	r = hotswapAt(t, f[0], tok, "cluster", "status")
	if r.code != 1 || !strings.Contains(r.stderr, "lost quorum") || !strings.Contains(r.stdout, "no:") {
		t.Errorf("cluster status without a leader: exit %d\n%s%s; want 1, quorum named, the stopped servers unreachable",
			r.code, r.stdout, r.stderr)
	}
	w := hotswapAt(t, f[0], tok, "agent", "token", "create", "late-host")
	if w.code == 0 || !strings.Contains(w.stderr, "quorum") || !strings.Contains(w.stderr, "retrying in") {
		t.Errorf("a write without quorum: exit %d, stderr %q; want it retried, then refused naming quorum", w.code, w.stderr)
	}
	if b, _ := readFile(f[0].LogPath); strings.Contains(b, "[ERROR] hotswapd.http: request failed") {
		t.Errorf("an expected 503 was logged as an error:\n%s", b)
	}

	start := time.Now()
	if err := f[0].Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-f[0].Exited():
	case <-time.After(30 * time.Second):
		t.Fatal("SIGTERM did not stop the server within 30 s")
	}
	// 2 s when idle; the bound leaves room for a loaded machine, well
	// under the 10 s shutdown deadline the server had.
	if took := time.Since(start); took > 6*time.Second {
		t.Errorf("SIGTERM stopped the server in %s, want within 2 s (6 s on a loaded machine)", took)
	}
}

// everyAddressRecorded reports whether st lists each server with the HTTP
// and gRPC addresses it serves on.
func everyAddressRecorded(st wire.ClusterStatus, servers []*testbed.Server) bool {
	got := map[string]wire.ClusterServer{}
	for _, s := range st.Servers {
		got[s.ID] = s
	}
	for _, s := range servers {
		if g := got[s.ID]; g.HTTPAddr != s.HTTPAddr || g.RPCAddr != s.RPCAddr {
			return false
		}
	}
	return true
}
