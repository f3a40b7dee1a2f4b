package metrics_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/controlplane/metrics"
	"github.com/hotswap-db/hotswap/controlplane/monitor"
	"github.com/hotswap-db/hotswap/internal/api"
)

// node is a Raft node that leads or follows, over an empty state.
type node struct {
	fsm    *fsm.FSM
	leader bool
}

func (n node) State() *fsm.State { return n.fsm.State() }
func (n node) Status() (api.ClusterStatus, error) {
	return api.ClusterStatus{ServerID: "s1", Term: 2}, nil
}
func (n node) IsLeader() bool                               { return n.leader }
func (n node) Applied() map[fsm.MessageType]fsm.AppliedStat { return nil }

type agents int

func (a agents) Connected() int { return int(a) }

func scrape(t *testing.T, n node) string {
	t.Helper()
	rec := httptest.NewRecorder()
	metrics.New(n, agents(0), monitor.NewStore(10)).Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}

// TestStateFiguresOnlyOnTheLeader: a sum() over the servers must count each
// execution once, so only the leader exports the figures of the state.
func TestStateFiguresOnlyOnTheLeader(t *testing.T) {
	f := fsm.New(nil)
	leader, follower := scrape(t, node{f, true}), scrape(t, node{f, false})
	for _, name := range []string{"migrations_executed_total ", "migrations_in_progress ", "databases_registered ",
		"migration_execution_duration_seconds_count "} {
		if !strings.Contains(leader, "\n"+name) {
			t.Errorf("the leader does not export %s", name)
		}
		if strings.Contains(follower, "\n"+name) {
			t.Errorf("a follower exports %s: a sum() over the servers would count it twice", name)
		}
	}
	for _, text := range []string{leader, follower} {
		if !strings.Contains(text, `hotswap_raft_term{server="s1"} 2`) {
			t.Errorf("the Raft term lacks its server label:\n%s", text)
		}
	}
}
