package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	wire "github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// hotswapd's Raft heartbeat timeout (controlplane/cluster.HeartbeatTimeout):
// a follower that has not heard from the leader for that long stops
// forwarding to it, and Raft starts an election after one or two of them.
const raftHeartbeatTimeout = 500 * time.Millisecond

// cutOffBound is how fast a cut-off follower must answer a write: ten
// heartbeat timeouts, room for a loaded machine, far below the client's
// timeout (cutOffClientTimeout) a forwarded write used to wait for.
const (
	cutOffBound         = 10 * raftHeartbeatTimeout
	cutOffClientTimeout = 30 * time.Second
)

// timedWrite registers agent name through s and says how it was answered.
type timedWrite struct {
	status     int
	notApplied bool
	took       time.Duration
	body       string
	err        error
}

func writeThrough(s *testbed.Server, tok, name string) timedWrite {
	ctx, cancel := context.WithTimeout(context.Background(), cutOffClientTimeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/api/v1/agents",
		bytes.NewReader([]byte(fmt.Sprintf(`{"name":%q}`, name))))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return timedWrite{took: time.Since(start), err: err}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return timedWrite{status: resp.StatusCode, notApplied: resp.Header.Get(wire.NotAppliedHeader) == "true",
		took: time.Since(start), body: string(b)}
}

// TestCutOffFollowerAnswersAtOnce: a follower partitioned from the leader
// (the leader's Raft messages no longer reach it, nor its forwarded
// requests the leader: packets dropped, nothing refused) answers every
// write 503, not applied, within a few Raft heartbeat timeouts: the
// writes sent right after the cut (it still follows the leader and
// forwards them) as well as those sent once it noticed. Its reads keep
// answering from its own state; the CLI's retries end with a message
// saying why and where else to go; after healing, none of the refused
// writes exists.
func TestCutOffFollowerAnswersAtOnce(t *testing.T) {
	servers := testbed.StartClusterWith(t, bins, 3, testbed.ClusterOptions{RaftProxies: true, HTTPProxies: true})
	tok := bootstrapToken(t, servers)
	leader := leaderOf(t, servers, tok)
	f := followers(servers, leader)[0]
	via := newAPI(t, f, tok, nil)
	// A forwarded write works, and leaves a connection to the leader open.
	via.must(http.StatusCreated, "POST", "/api/v1/agents", map[string]string{"name": "before"})

	f.RaftProxy.Stall()
	leader.HTTPProxy.Stall()
	healed := false
	heal := func() {
		if !healed {
			healed = true
			f.RaftProxy.Heal()
			leader.HTTPProxy.Heal()
		}
	}
	t.Cleanup(heal)
	var refused []string
	pace := time.NewTicker(raftHeartbeatTimeout / 5)
	defer pace.Stop()
	for start := time.Now(); time.Since(start) < 4*raftHeartbeatTimeout; <-pace.C {
		name, at := fmt.Sprintf("cut-%d", len(refused)), time.Since(start).Round(time.Millisecond)
		w := writeThrough(f, tok, name)
		switch {
		case w.err != nil:
			t.Fatalf("write %s sent %s after the cut: %v after %s; want a 503 within %s", name, at, w.err, w.took, cutOffBound)
		case w.status != http.StatusServiceUnavailable || !w.notApplied || w.took > cutOffBound:
			t.Fatalf("write %s sent %s after the cut = %d (not applied: %v) after %s: %s\nwant 503, not applied, within %s",
				name, at, w.status, w.notApplied, w.took, w.body, cutOffBound)
		}
		t.Logf("write %s sent %s after the cut: 503 not applied after %s", name, at, w.took.Round(time.Millisecond))
		refused = append(refused, name)
	}

	// Reads answer from the follower's own state, with its staleness.
	if r := via.do("GET", "/api/v1/migrations", nil); r.Status != http.StatusOK {
		t.Errorf("GET /api/v1/migrations on the cut-off follower = %d %s; want its own state", r.Status, r.Body)
	}
	if st := clusterStatus(t, f, tok); st.LastContact == "" {
		t.Errorf("cluster status on the cut-off follower = %+v; want how long since it heard from the leader", st)
	}
	if r := hotswapAt(t, f, tok, "cluster", "status"); !strings.Contains(r.stdout, "ago (from the leader)") {
		t.Errorf("hotswap cluster status on the cut-off follower:\n%s%s\nwant its last contact with the leader", r.stdout, r.stderr)
	}

	// The CLI retries, then says why and where else to go.
	r := hotswapAt(t, f, tok, "agent", "token", "create", "cli-cut")
	if r.code == 0 || !strings.Contains(r.stderr, "retrying") || !strings.Contains(r.stderr, "still unavailable after") ||
		!strings.Contains(r.stderr, "nothing was applied") || !strings.Contains(r.stderr, leader.ID+" at ") {
		t.Errorf("hotswap agent token create through the cut-off follower: exit %d\n%s%s\nwant retries, then why, "+
			"that nothing was applied and the other servers' addresses", r.code, r.stdout, r.stderr)
	}
	refused = append(refused, "cli-cut")

	heal()
	eventually(t, 20*time.Second, "the follower back in contact with the leader", func() bool {
		st := writeThrough(f, tok, "after").status
		return st == http.StatusCreated || st == http.StatusConflict
	})
	for _, name := range refused {
		if r := newAPI(t, leader, tok, nil).do("GET", "/api/v1/agents/"+name, nil); r.Status != http.StatusNotFound {
			t.Errorf("agent %s, whose write was answered not applied, is on the leader: %d %s", name, r.Status, r.Body)
		}
	}
}
