package httpapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// followerRaft is a follower's Raft node as the forwarder sees it: it
// follows the leader at leader, and heard from it just now unless
// silentSince is set.
type followerRaft struct {
	Raft        // the methods the forwarder does not call are not implemented
	leader      domain.Server
	state       *fsm.State
	silentSince atomic.Pointer[time.Time]
}

func (r *followerRaft) Self() domain.Server                 { return domain.Server{ID: "s2"} }
func (r *followerRaft) State() *fsm.State                   { return r.state }
func (r *followerRaft) LeaderServer() (domain.Server, bool) { return r.leader, true }
func (r *followerRaft) WaitApplied(context.Context, uint64) error {
	return nil
}

func (r *followerRaft) LastContact() time.Time {
	if t := r.silentSince.Load(); t != nil {
		return *t
	}
	return time.Now()
}

// goSilent makes the follower stop hearing from the leader, as of ago.
func (r *followerRaft) goSilent(ago time.Duration) {
	t := time.Now().Add(-ago)
	r.silentSince.Store(&t)
}

// forwardOnce sends a write with a body through a follower's forwarder to
// a leader served by leader, and returns the answer and how long it took.
func forwardOnce(t *testing.T, r *followerRaft, leader http.HandlerFunc) (*httptest.ResponseRecorder, time.Duration) {
	t.Helper()
	srv := httptest.NewServer(leader)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	r.leader = domain.Server{ID: "s1", HTTPAddr: u.Host}
	a := New(Config{Raft: r, Logger: hclog.NewNullLogger(), LeaderTimeout: 100 * time.Millisecond})
	req := httptest.NewRequest(http.MethodPost, "/api/v1/agents", strings.NewReader(`{"name":"h"}`))
	rec := httptest.NewRecorder()
	start := time.Now()
	a.forward.serve(finalOnly{rec}, req, a.fail)
	return rec, time.Since(start)
}

// finalOnly records the final answer; a server sends the interim ones
// (100 Continue) on the wire, which a recorder cannot tell apart.
type finalOnly struct{ *httptest.ResponseRecorder }

func (w finalOnly) WriteHeader(code int) {
	if code >= http.StatusOK {
		w.ResponseRecorder.WriteHeader(code)
	}
}

// TestForwardGivesUpOnASilentLeader: a follower that stops hearing from
// the leader answers 503 within a few leader timeouts, whatever the leader
// does; not applied only when the leader did not take the request's body.
func TestForwardGivesUpOnASilentLeader(t *testing.T) {
	cases := []struct {
		name           string
		silentBefore   bool // the follower is already silent when the request comes
		leaderReads    bool // the leader reads the body, then hangs
		wantStatus     int
		wantNotApplied bool
		wantMessage    string
	}{
		{"silent before: not forwarded", true, false, http.StatusServiceUnavailable, true, "has not heard from the leader s1"},
		{"the leader never took the body", false, false, http.StatusServiceUnavailable, true, "nothing was applied"},
		{"the leader took the body", false, true, http.StatusServiceUnavailable, false, "may or may not have been applied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &followerRaft{state: fsm.New(nil).State()}
			release, reached := make(chan struct{}), atomic.Bool{}
			if tc.silentBefore {
				r.goSilent(time.Second)
			}
			rec, took := forwardOnce(t, r, func(w http.ResponseWriter, req *http.Request) {
				reached.Store(true)
				if tc.leaderReads {
					_, _ = io.ReadAll(req.Body)
				}
				r.goSilent(time.Second) // the link breaks here: the follower hears nothing more
				select {
				case <-release:
				case <-req.Context().Done():
				}
			})
			close(release) // before the leader's server closes
			if rec.Code != tc.wantStatus || (rec.Header().Get(api.NotAppliedHeader) == "true") != tc.wantNotApplied ||
				!strings.Contains(rec.Body.String(), tc.wantMessage) {
				t.Errorf("answer %d (not applied: %q) %s; want %d, not applied %v, saying %q", rec.Code,
					rec.Header().Get(api.NotAppliedHeader), rec.Body, tc.wantStatus, tc.wantNotApplied, tc.wantMessage)
			}
			if took > 5*time.Second {
				t.Errorf("answered after %s; want within a few leader timeouts (100ms)", took)
			}
			if tc.silentBefore && reached.Load() {
				t.Error("a follower that had not heard from the leader forwarded the request")
			}
		})
	}
}

// TestForwardPassesTheLeadersAnswer: while the follower hears from the
// leader, the leader's answer (and its body) comes back as it is.
func TestForwardPassesTheLeadersAnswer(t *testing.T) {
	r := &followerRaft{state: fsm.New(nil).State()}
	rec, _ := forwardOnce(t, r, func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		w.Header().Set(indexHeader, "7")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(b)
	})
	if rec.Code != http.StatusCreated || rec.Body.String() != `{"name":"h"}` {
		t.Errorf("answer %d %s; want the leader's 201 with the body it read", rec.Code, rec.Body)
	}
}
