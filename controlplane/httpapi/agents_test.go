package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// addAgents registers n agents named host-000..., each connected with one
// instance; instance "pg" of host-001 is unreachable and lacks a check.
func (h *harness) addAgents(t *testing.T, n int) {
	t.Helper()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range n {
		name := fmt.Sprintf("host-%03d", i)
		h.raft.must(t, fsm.CreateAgentRequest{Agent: domain.Agent{Name: name, CreatedAt: now}, TokenHash: hashOf(name)})
		in := simulatedInstance(name, now)
		if i == 1 {
			in.Reachable, in.Preflight.Checks[0].OK = false, false
		}
		h.presence.set(name, domain.AgentPresence{Connected: true, ConnectedAt: now, LastSeen: now,
			Instances: []domain.InstanceStatus{in}})
	}
}

// TestAgentListPages: the agent list answers a page (the default size
// without a limit), sorted by name, with the total, and compact rows.
func TestAgentListPages(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.addAgents(t, api.DefaultAgentPage+5)
	first, err := h.client.ListAgents(ctx, api.ListAgentsRequest{})
	if err != nil || len(first.Agents) != api.DefaultAgentPage || first.Total != api.DefaultAgentPage+5 ||
		first.Limit != api.DefaultAgentPage || first.Offset != 0 || first.Agents[0].Name != "host-000" {
		t.Fatalf("ListAgents() = %d rows, total %d, limit %d, offset %d, %v; want the first %d of %d",
			len(first.Agents), first.Total, first.Limit, first.Offset, err, api.DefaultAgentPage, api.DefaultAgentPage+5)
	}
	last, err := h.client.ListAgents(ctx, api.ListAgentsRequest{Limit: 10, Offset: 100})
	if err != nil || len(last.Agents) != 5 || last.Agents[0].Name != "host-100" || last.Total != 105 {
		t.Errorf("ListAgents(limit 10, offset 100) = %+v, %v; want host-100 to host-104 of 105", last, err)
	}
	past, err := h.client.ListAgents(ctx, api.ListAgentsRequest{Offset: 500})
	if err != nil || len(past.Agents) != 0 || past.Total != 105 {
		t.Errorf("ListAgents(offset 500) = %+v, %v; want no row, total 105", past, err)
	}
	all, err := h.client.AllAgents(ctx, 40)
	if err != nil || len(all.Agents) != 105 || all.Agents[104].Name != "host-104" {
		t.Errorf("AllAgents(40) = %d rows, %v; want all 105 in order", len(all.Agents), err)
	}
	for _, q := range []string{"limit=0", "limit=1001", "offset=-1", "limit=x"} {
		if a := h.do(t, http.MethodGet, "/api/v1/agents?"+q, adminToken, ""); a.status != http.StatusBadRequest {
			t.Errorf("GET /api/v1/agents?%s: status %d, want 400", q, a.status)
		}
	}
}

// TestAgentListRows: a row counts the instances, names the unreachable
// ones and sums up the preflight; the checks themselves stay in the
// agent's own view.
func TestAgentListRows(t *testing.T) {
	h := newHarness(t)
	h.addAgents(t, 2)
	a := h.do(t, http.MethodGet, "/api/v1/agents", adminToken, "")
	var list api.AgentList
	if err := json.Unmarshal(a.body, &list); err != nil || len(list.Agents) != 2 {
		t.Fatalf("GET /api/v1/agents = %d %s, %v", a.status, a.body, err)
	}
	ok, bad := list.Agents[0], list.Agents[1]
	if ok.Instances != 1 || len(ok.Unreachable) != 0 || ok.Preflight != "ok" || !ok.Connected {
		t.Errorf("host-000 row = %+v, want 1 instance, none unreachable, preflight ok, connected", ok)
	}
	want := "pg: missing: " + domain.PreflightChecks[0]
	if bad.Instances != 1 || len(bad.Unreachable) != 1 || bad.Unreachable[0] != "pg" || bad.Preflight != want {
		t.Errorf("host-001 row = %+v, want unreachable [pg] and preflight %q", bad, want)
	}
	if body := string(a.body); strings.Contains(body, `"checks"`) || strings.Contains(body, "systemIdentifier") {
		t.Errorf("the list carries instance detail: %s", body)
	}
	one, err := h.client.GetAgent(context.Background(), "host-001")
	if err != nil || len(one.Instances) != 1 || one.Instances[0].Preflight == nil || len(one.Instances[0].Preflight.Checks) == 0 {
		t.Errorf("GetAgent(host-001) = %+v, %v; want its instance with its preflight checks", one, err)
	}
}
