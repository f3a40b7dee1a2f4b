package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// TestBlueGreenPoolerTargets: a pooler whose agent's config has no target
// for green is refused before anything changes, naming the target missing
// and the ones there are; once it has a target for blue and green the
// plan is shown.
func TestBlueGreenPoolerTargets(t *testing.T) {
	h := newHarness(t)
	f := h.addDatabase(t)
	m := h.addMigration(t, f, "c1")
	report := func(targets ...string) {
		cur, err := h.raft.State().Agent(agentName)
		if err != nil {
			t.Fatal(err)
		}
		h.raft.must(t, fsm.ReportAgentRequest{Name: agentName, Hostname: cur.Hostname, Version: cur.Version, Instances: cur.Instances,
			ReportedAt: cur.ReportedAt.Add(time.Second), Poolers: []string{"bouncer"}, PoolerTargets: map[string][]string{"bouncer": targets}})
	}
	plan := "/api/v1/migrations/" + m.MigrationID + "/plan?strategy=BlueGreen&green=" + agentName + "/replica&pooler=" + agentName + "/bouncer"

	report("main")
	before := h.view()
	got := h.do(t, "POST", "/api/v1/migrations/"+m.MigrationID+"/execute", h.token,
		`{"strategy":"BlueGreen","blueGreen":{"green":"`+agentName+`/replica","pooler":"`+agentName+`/bouncer"}}`)
	if got.status != http.StatusBadRequest || !strings.Contains(string(got.body), `no target \"replica\"`) ||
		!strings.Contains(string(got.body), "its targets: main") {
		t.Errorf("execute with a pooler lacking green's target = %d %s, want a 400 naming the missing target", got.status, got.body)
	}
	h.unchanged(t, before)
	if got := h.do(t, "GET", plan, h.token, ""); got.status != http.StatusBadRequest {
		t.Errorf("plan with a pooler lacking green's target = %d %s, want 400", got.status, got.body)
	}

	report("main", "replica")
	if got := h.do(t, "GET", plan, h.token, ""); got.status != http.StatusOK {
		t.Errorf("plan with targets for blue and green = %d %s, want 200", got.status, got.body)
	}
	var ag domain.Agent
	if ag, _ = h.raft.State().Agent(agentName); len(ag.PoolerTargets["bouncer"]) != 2 {
		t.Errorf("agent's pooler targets = %v, want main and replica kept", ag.PoolerTargets)
	}

	// The agent's link drops: execute is refused before anything changes.
	live := h.presence.Presence()[agentName]
	live.Connected = false
	h.presence.set(agentName, live)
	before = h.view()
	got = h.do(t, "POST", "/api/v1/migrations/"+m.MigrationID+"/execute", h.token,
		`{"strategy":"BlueGreen","blueGreen":{"green":"`+agentName+`/replica","pooler":"`+agentName+`/bouncer"}}`)
	if got.status != http.StatusConflict || !strings.Contains(string(got.body), "is not connected") {
		t.Errorf("execute with the agent disconnected = %d %s, want 409 saying it is not connected", got.status, got.body)
	}
	h.unchanged(t, before)
}
