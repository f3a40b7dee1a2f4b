package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/controlplane/httpapi"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// fleetAgents is how many agents the list benchmarks register: the
// fleet of issue 13's scale goal.
const fleetAgents = 1000

// newFleet is the API handler over a state with n registered agents, each
// connected and reporting one PostgreSQL instance with its preflight, as
// bench/scale's simulated agents do.
func newFleet(tb testing.TB, n int) http.Handler {
	tb.Helper()
	r, live := newLocalRaft(), &presence{live: map[string]domain.AgentPresence{}}
	apply := func(c fsm.Command) {
		if _, err := r.Apply(tb.Context(), c); err != nil {
			tb.Fatalf("apply %T: %v", c, err)
		}
	}
	apply(fsm.CreateAPITokenRequest{Token: domain.APIToken{TokenID: "tok-1", Name: "admin", Role: "Admin"},
		Hash: httpapi.HashToken(adminToken)})
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range n {
		name := fmt.Sprintf("sim-%04d", i)
		apply(fsm.CreateAgentRequest{Agent: domain.Agent{Name: name, CreatedAt: now}, TokenHash: httpapi.HashToken(name)})
		in := []domain.InstanceStatus{simulatedInstance(name, now)}
		apply(fsm.ReportAgentRequest{Name: name, Hostname: name, Version: "bench-sim", Instances: in, ReportedAt: now})
		live.set(name, domain.AgentPresence{Connected: true, ConnectedAt: now, LastSeen: now, Instances: in})
	}
	return httpapi.New(httpapi.Config{Raft: r, Presence: live, Logger: hclog.NewNullLogger(), History: history{},
		Samples: samples{}, Catalog: &catalog{}}).Handler()
}

// simulatedInstance is what bench/scale's simulated agent reports.
func simulatedInstance(agent string, at time.Time) domain.InstanceStatus {
	pre := &domain.Preflight{CheckedAt: at}
	for _, name := range domain.PreflightChecks {
		pre.Checks = append(pre.Checks, domain.PreflightCheck{Name: name, OK: true, Detail: "simulated"})
	}
	return domain.InstanceStatus{InstanceID: "pg", Engine: domain.PostgreSQL, ServerVersion: "15.0",
		Role: domain.DetectedPrimary, SystemIdentifier: "sim-" + agent, Reachable: true, ActiveConnections: 5,
		CheckedAt: at, Preflight: pre}
}

// benchmarkGet times GET path on h, failing unless it answers 200.
func benchmarkGet(b *testing.B, h http.Handler, path string) {
	b.ReportAllocs()
	var size int
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(size), "bytes/answer")
}

// BenchmarkListAgents: the agent list with 1,000 agents, the default page
// and all in one page, beside one agent's full view. Before the list was
// paged, with the full view of each agent in it, the answer was 1.29 MB
// and took 23 ms on the 2-core machine (about 80 times one agent's view).
func BenchmarkListAgents(b *testing.B) {
	h := newFleet(b, fleetAgents)
	b.Run("page", func(b *testing.B) { benchmarkGet(b, h, "/api/v1/agents") })
	b.Run("all", func(b *testing.B) { benchmarkGet(b, h, fmt.Sprintf("/api/v1/agents?limit=%d", fleetAgents)) })
	b.Run("one", func(b *testing.B) { benchmarkGet(b, h, "/api/v1/agents/sim-0500") })
}
