package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	wire "github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// leaderOf waits until every running server agrees on a leader that has
// registered its HTTP address, and returns it.
func leaderOf(t *testing.T, servers []*testbed.Server, tok string) *testbed.Server {
	t.Helper()
	var leader *testbed.Server
	eventually(t, 20*time.Second, "an agreed leader", func() bool {
		leader = nil
		for _, s := range servers {
			if !s.Running() {
				continue
			}
			var v wire.ClusterStatus
			r := newAPI(t, s, tok, nil).do("GET", "/api/v1/cluster", nil)
			if r.Status != http.StatusOK {
				return false
			}
			r.decode(t, &v)
			if v.Leader == "" || (leader != nil && leader.ID != v.Leader) {
				return false
			}
			for _, c := range servers {
				if c.ID == v.Leader && c.Running() {
					leader = c
				}
			}
			if !leaderRegistered(v) {
				return false
			}
		}
		return leader != nil
	})
	return leader
}

func leaderRegistered(v wire.ClusterStatus) bool {
	for _, s := range v.Servers {
		if s.Leader && s.HTTPAddr != "" {
			return true
		}
	}
	return false
}

func followers(servers []*testbed.Server, leader *testbed.Server) []*testbed.Server {
	var out []*testbed.Server
	for _, s := range servers {
		if s != leader && s.Running() {
			out = append(out, s)
		}
	}
	return out
}

// bootstrapToken finds the admin token: the first leader wrote it to its
// own data folder.
func bootstrapToken(t *testing.T, servers []*testbed.Server) string {
	t.Helper()
	var tok string
	eventually(t, 20*time.Second, "a bootstrap token", func() bool {
		for _, s := range servers {
			if b, err := readFile(s.DataDir + "/bootstrap-token"); err == nil {
				tok = strings.TrimSpace(b)
				return tok != ""
			}
		}
		return false
	})
	return tok
}

func TestThreeServerCluster(t *testing.T) {
	servers := testbed.StartCluster(t, bins, 3)
	tok := bootstrapToken(t, servers)
	leader := leaderOf(t, servers, tok)
	f := followers(servers, leader)
	if len(f) != 2 {
		t.Fatalf("followers = %d, want 2", len(f))
	}
	before := clusterStatus(t, leader, tok)
	if len(before.Servers) != 3 {
		t.Fatalf("cluster lists %d servers, want 3", len(before.Servers))
	}

	// A write sent to a follower reaches the leader, and the follower's next
	// read sees it.
	viaFollower := newAPI(t, f[0], tok, nil)
	viaFollower.must(http.StatusCreated, "POST", "/api/v1/agents", map[string]string{"name": "host1"})
	db := viaFollower.must(http.StatusCreated, "POST", "/api/v1/databases", map[string]any{
		"name": "orders", "type": "PostgreSQL", "environment": "Production",
		"instances": []map[string]string{{"agent": "host1", "instanceId": "main", "role": "Master"}},
	})
	var created struct{ DatabaseID string }
	db.decode(t, &created)
	viaFollower.must(http.StatusOK, "GET", "/api/v1/databases/"+created.DatabaseID, nil)
	// The other follower gets it through replication.
	other := newAPI(t, f[1], tok, nil)
	eventually(t, 5*time.Second, "replication to the other follower", func() bool {
		return other.do("GET", "/api/v1/databases/orders", nil).Status == http.StatusOK
	})
	// A duplicate through a follower is refused by the leader with 409.
	viaFollower.must(http.StatusConflict, "POST", "/api/v1/agents", map[string]string{"name": "host1"})

	// An agent that knows all three servers ends up connected to the leader.
	var agentTok struct{ Token string }
	viaFollower.must(http.StatusCreated, "POST", "/api/v1/agents", map[string]string{"name": "roamer"}).decode(t, &agentTok)
	var rpc []string
	for _, s := range servers {
		rpc = append(rpc, s.RPCAddr)
	}
	testbed.StartAgent(t, bins, agentconfig.Config{Name: "roamer", Token: agentTok.Token, Servers: rpc})
	eventually(t, 20*time.Second, "the agent to connect to the leader", func() bool {
		v, ok := viaFollower.agent("roamer")
		return ok && v.Connected
	})

	// Kill the leader: a new one is elected and the data is intact.
	leader.Kill()
	survivors := f
	newLeader := leaderOf(t, survivors, tok)
	if newLeader == leader {
		t.Fatal("the killed server is still the leader")
	}
	after := clusterStatus(t, newLeader, tok)
	if after.Term <= before.Term {
		t.Errorf("term after failover = %d, want > %d", after.Term, before.Term)
	}
	for _, s := range survivors {
		a := newAPI(t, s, tok, nil)
		a.must(http.StatusOK, "GET", "/api/v1/databases/orders", nil)
		if _, ok := a.agent("host1"); !ok {
			t.Errorf("%s lost agent host1 after failover", s.ID)
		}
	}
	// The agent follows the new leader.
	eventually(t, 30*time.Second, "the agent to reconnect to the new leader", func() bool {
		v, ok := newAPI(t, newLeader, tok, nil).agent("roamer")
		return ok && v.Connected
	})
	// Writes still work, through either survivor.
	for i, s := range survivors {
		newAPI(t, s, tok, nil).must(http.StatusCreated, "POST", "/api/v1/agents", map[string]string{"name": "after-failover-" + string(rune('a'+i))})
	}

	// The killed server comes back from its data folder and catches up.
	if err := leader.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	back := newAPI(t, leader, tok, nil)
	eventually(t, 10*time.Second, "the restarted server to catch up", func() bool {
		_, ok := back.agent("after-failover-b")
		return ok
	})
}

func clusterStatus(t *testing.T, s *testbed.Server, tok string) wire.ClusterStatus {
	t.Helper()
	var v wire.ClusterStatus
	newAPI(t, s, tok, nil).must(http.StatusOK, "GET", "/api/v1/cluster", nil).decode(t, &v)
	return v
}

func TestSingleServerRestartKeepsState(t *testing.T) {
	s := testbed.StartServer(t, bins, testbed.ServerOptions{})
	tok := token(t, s)
	a := newAPI(t, s, tok, nil)
	eventually(t, 10*time.Second, "the server to lead", func() bool {
		return a.do("POST", "/api/v1/agents", map[string]string{"name": "host1"}).Status == http.StatusCreated
	})
	a.must(http.StatusCreated, "POST", "/api/v1/databases", map[string]any{
		"name": "orders", "type": "PostgreSQL", "environment": "QA",
		"instances": []map[string]string{{"agent": "host1", "instanceId": "main", "role": "Master"}},
	})
	var mig struct{ MigrationID string }
	a.must(http.StatusCreated, "POST", "/api/v1/migrations", map[string]any{
		"name": "add_email", "targetDatabaseId": "orders",
		"migrationScript": "ALTER TABLE users ADD COLUMN email text;",
		"rollbackScript":  "ALTER TABLE users DROP COLUMN email;",
	}).decode(t, &mig)

	for _, restart := range []struct {
		name string
		stop func()
	}{{"SIGTERM", s.Stop}, {"SIGKILL", s.Kill}} {
		restart.stop()
		if err := s.Start(t.Context()); err != nil {
			t.Fatalf("restart after %s: %v", restart.name, err)
		}
		eventually(t, 10*time.Second, "state after "+restart.name, func() bool {
			return a.do("GET", "/api/v1/migrations/"+mig.MigrationID, nil).Status == http.StatusOK
		})
		a.must(http.StatusOK, "GET", "/api/v1/databases/orders", nil)
		if _, ok := a.agent("host1"); !ok {
			t.Errorf("agent lost after %s", restart.name)
		}
	}
	// The bootstrap token is made once, on the first start only.
	if n := strings.Count(s.Log(), "Bootstrap admin token"); n != 1 {
		t.Errorf("bootstrap token printed %d times, want 1", n)
	}
	// And it is still accepted, because the cluster kept its hash.
	a.must(http.StatusOK, "GET", "/api/v1/cluster", nil)
}
