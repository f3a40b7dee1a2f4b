package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	wire "github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// Who may call each route, per the reference's role matrix: Admin
// everything; DBA executes, monitors, rolls back and approves; Developer
// creates migrations and executes (on Development and QA only, which the
// handler checks); Viewer reads. It is written here on its own, not read
// from the server's rule table, so a wrong rule there fails this test.
var (
	everyRole = []domain.Role{domain.RoleAdmin, domain.RoleDBA, domain.RoleDeveloper, domain.RoleViewer}
	adminOnly = []domain.Role{domain.RoleAdmin}
	adminDBA  = []domain.Role{domain.RoleAdmin, domain.RoleDBA}
	adminDev  = []domain.Role{domain.RoleAdmin, domain.RoleDeveloper}
	runners   = []domain.Role{domain.RoleAdmin, domain.RoleDBA, domain.RoleDeveloper}
)

var roleMatrix = map[string][]domain.Role{
	"POST /api/v1/users": adminOnly, "GET /api/v1/users": adminOnly, "DELETE /api/v1/users/{username}": adminOnly,
	"POST /api/v1/tokens": everyRole, "GET /api/v1/tokens": everyRole, "DELETE /api/v1/tokens/{id}": everyRole,

	"GET /api/v1/audit-log": adminDBA, "GET /api/v1/audit-log/export": adminDBA, "GET /api/v1/audit-log/verify": adminDBA,
	"POST /api/v1/audit-log/archive": adminOnly, "GET /api/v1/migrations/{id}/audit-log": adminDBA,

	"GET /api/v1/cluster": everyRole, "POST /api/v1/cluster/join": adminOnly, "DELETE /api/v1/cluster/servers/{id}": adminOnly,
	"POST /api/v1/cluster/leadership-transfer": adminOnly,
	"GET /api/v1/operator/snapshot":            adminOnly, "POST /api/v1/operator/snapshot": adminOnly,

	"POST /api/v1/agents": adminOnly, "GET /api/v1/agents": everyRole, "GET /api/v1/agents/{name}": everyRole,
	"DELETE /api/v1/agents/{name}": adminOnly,

	"POST /api/v1/databases": adminDBA, "GET /api/v1/databases": everyRole, "GET /api/v1/databases/{id}": everyRole,
	"PUT /api/v1/databases/{id}": adminDBA, "DELETE /api/v1/databases/{id}": adminOnly,
	"GET /api/v1/databases/{id}/health": everyRole, "GET /api/v1/databases/{id}/history": everyRole,

	"POST /api/v1/migrations": adminDev, "GET /api/v1/migrations": everyRole, "GET /api/v1/migrations/{id}": everyRole,
	"PUT /api/v1/migrations/{id}": adminDev, "DELETE /api/v1/migrations/{id}": adminOnly,
	"POST /api/v1/migrations/{id}/execute": runners, "POST /api/v1/migrations/{id}/submit-approval": runners,
	"POST /api/v1/migrations/{id}/approve": adminDBA, "POST /api/v1/migrations/{id}/reject": adminDBA,
	"GET /api/v1/migrations/{id}/approvals": everyRole, "GET /api/v1/migrations/{id}/plan": everyRole,
	"POST /api/v1/migrations/{id}/validate": runners,

	"GET /api/v1/migrations/{id}/executions":                               everyRole,
	"GET /api/v1/executions/{executionId}":                                 everyRole,
	"GET /api/v1/migrations/{id}/executions/{executionId}":                 everyRole,
	"GET /api/v1/migrations/{id}/executions/{executionId}/metrics":         everyRole,
	"GET /api/v1/migrations/{id}/executions/{executionId}/events":          everyRole,
	"POST /api/v1/migrations/{id}/executions/{executionId}/rollback":       adminDBA,
	"POST /api/v1/migrations/{id}/executions/{executionId}/rollback/retry": adminDBA,
	"POST /api/v1/migrations/{id}/executions/{executionId}/resolve":        adminDBA,
	"POST /api/v1/migrations/{id}/executions/{executionId}/pause":          adminDBA,
	"POST /api/v1/migrations/{id}/executions/{executionId}/resume":         adminDBA,
}

// matrixBodies are the bodies that keep an allowed call harmless: it passes
// authorization and is then refused as invalid, or finds nothing.
var matrixBodies = map[string]string{
	"POST /api/v1/cluster/leadership-transfer": `{"to":"nosuch"}`,
}

// matrixCall is one request of the matrix and the answer it must get.
type matrixCall struct {
	server  *testbed.Server
	pattern string
	role    domain.Role
	allowed bool
}

// TestRoleMatrixOnThreeServers sends every route of the API, as each of
// the four roles, to the leader and to a follower of a real 3-server
// cluster: 403 in the error format where the role may not, past
// authorization where it may. The calls come from the API's route table,
// so a route with no line in roleMatrix fails. Then the audit log records
// the end client's address for a write a follower forwarded, and ignores
// an address a client claims for itself.
func TestRoleMatrixOnThreeServers(t *testing.T) {
	ctx := t.Context()
	servers := testbed.StartCluster(t, bins, 3)
	tok := bootstrapToken(t, servers)
	leader := leaderOf(t, servers, tok)
	follower := followers(servers, leader)[0]
	tokens := map[domain.Role]string{}
	for _, role := range everyRole {
		name := "matrix-" + strings.ToLower(string(role))
		if _, err := wire.New(leader.URL(), tok).CreateUser(ctx, wire.CreateUserRequest{Username: name,
			Password: name + " long passphrase", Role: role}); err != nil {
			t.Fatal(err)
		}
		l, err := wire.New(follower.URL(), "").Login(ctx, name, name+" long passphrase")
		if err != nil {
			t.Fatalf("login of %s through follower %s: %v", name, follower.ID, err)
		}
		tokens[role] = l.Token
	}
	t.Run("matrix", func(t *testing.T) {
		runMatrix(t, matrixCalls(t, leader, follower), tokens)
	})
	t.Run("client address", func(t *testing.T) {
		checkClientAddress(t, leader, follower, tok)
	})
}

// matrixCalls is every non-public route of the API, as each role, on
// both servers.
func matrixCalls(t *testing.T, servers ...*testbed.Server) []matrixCall {
	var calls []matrixCall
	for _, e := range wire.Endpoints() {
		if e.Public {
			continue
		}
		pattern := e.Method + " " + e.Path
		allowed, ok := roleMatrix[pattern]
		if !ok {
			t.Errorf("route %s has no line in the role matrix: say who may call it", pattern)
			continue
		}
		for _, s := range servers {
			for _, role := range everyRole {
				calls = append(calls, matrixCall{server: s, pattern: pattern, role: role, allowed: slices.Contains(allowed, role)})
			}
		}
	}
	if len(calls) < 8*40 {
		t.Fatalf("%d calls: the route table looks empty", len(calls))
	}
	return calls
}

var pathValue = regexp.MustCompile(`\{[^}]+\}`)

// runMatrix sends the calls, eight at a time.
func runMatrix(t *testing.T, calls []matrixCall, tokens map[domain.Role]string) {
	work := make(chan matrixCall)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				checkMatrixCall(t, c, tokens[c.role])
			}
		}()
	}
	for _, c := range calls {
		work <- c
	}
	close(work)
	wg.Wait()
}

func checkMatrixCall(t *testing.T, c matrixCall, token string) {
	method, path, _ := strings.Cut(c.pattern, " ")
	body := matrixBodies[c.pattern]
	if body == "" {
		body = "{}"
	}
	ctx, cancel := context.WithTimeout(t.Context(), matrixTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.server.URL()+pathValue.ReplaceAllString(path, "nosuch"), strings.NewReader(body))
	if err != nil {
		t.Error(err)
		return
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.server.HTTPClient().Do(req)
	if err != nil {
		t.Errorf("%s as %s on %s: %v", c.pattern, c.role, c.server.ID, err)
		return
	}
	defer resp.Body.Close()
	var eb wire.ErrorBody
	_ = json.NewDecoder(resp.Body).Decode(&eb)
	got := resp.StatusCode
	switch {
	case c.allowed && (got == http.StatusForbidden || got == http.StatusUnauthorized || got >= 500):
		t.Errorf("%s as %s on %s = %d %s, want it past authorization (2xx, 400, 404, 409 or 415)", c.pattern, c.role, c.server.ID,
			got, eb.Error.Message)
	case !c.allowed && (got != http.StatusForbidden || eb.Error.Code != wire.CodeForbidden):
		t.Errorf("%s as %s on %s = %d %s, want 403 %s", c.pattern, c.role, c.server.ID, got, eb.Error.Code, wire.CodeForbidden)
	}
}

// matrixTimeout bounds one request of the matrix, on a loaded machine.
const matrixTimeout = 30 * time.Second

// fromAddr is a client whose connections come from the loopback address ip.
func fromAddr(s *testbed.Server, ip, token string) *wire.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return wire.New(s.URL(), token, wire.WithHTTPClient(&http.Client{Transport: &http.Transport{DialContext: d.DialContext}}))
}

// checkClientAddress: a write forwarded by a follower is recorded with the
// end client's address; headers a client sets to claim another address
// are ignored by the follower and by the leader.
func checkClientAddress(t *testing.T, leader, follower *testbed.Server, tok string) {
	ctx := t.Context()
	if _, err := fromAddr(follower, "127.0.0.2", tok).CreateAgentToken(ctx, "via-follower"); err != nil {
		t.Fatal(err)
	}
	if _, err := fromAddr(follower, "127.0.0.5", "").Login(ctx, "matrix-viewer", "matrix-viewer long passphrase"); err != nil {
		t.Fatal(err)
	}
	forged := map[string]string{"X-Hotswap-Client-Addr": "10.6.6.6", "X-Hotswap-Client-Addr-Proof": strings.Repeat("ab", 32)}
	send := func(s *testbed.Server, ip, agent string, extra map[string]string) {
		t.Helper()
		hdr := http.Header{}
		for k, v := range extra {
			hdr.Set(k, v)
		}
		body, _ := json.Marshal(map[string]string{"name": agent})
		req, _ := http.NewRequestWithContext(ctx, "POST", s.URL()+"/api/v1/agents", bytes.NewReader(body))
		req.Header = hdr
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		resp, err := (&http.Client{Transport: &http.Transport{DialContext: d.DialContext}}).Do(req)
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("register %s through %s: %v %v", agent, s.ID, resp, err)
		}
		resp.Body.Close()
	}
	send(follower, "127.0.0.3", "forged-to-follower", forged)
	withForwarded := map[string]string{"X-Hotswap-Forwarded-By": follower.ID}
	for k, v := range forged {
		withForwarded[k] = v
	}
	send(leader, "127.0.0.4", "forged-to-leader", withForwarded)

	admin := wire.New(leader.URL(), tok)
	for target, want := range map[string]string{"via-follower": "127.0.0.2", "forged-to-follower": "127.0.0.3",
		"forged-to-leader": "127.0.0.4"} {
		l, err := admin.ListAudit(ctx, wire.AuditQuery{Target: target, Type: "create_agent"})
		if err != nil || l.Total != 1 || l.Entries[0].From != want {
			t.Errorf("audit of %s = %+v, %v; want one entry from %s", target, l.Entries, err, want)
		}
	}
	l, err := admin.ListAudit(ctx, wire.AuditQuery{User: "matrix-viewer", Type: "login"})
	if err != nil || l.Total != 2 || l.Entries[1].From != "127.0.0.5" {
		t.Errorf("logins of matrix-viewer = %+v, %v; want the second through the follower from 127.0.0.5", l.Entries, err)
	}
}
