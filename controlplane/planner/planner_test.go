package planner

import (
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// cluster is a primary, two physical standbys, a logical subscriber and an
// independent copy, as their agents report them.
func cluster() (domain.Database, Topology) {
	db := domain.Database{Name: "orders", Instances: []domain.InstanceRef{
		{Agent: "h1", InstanceID: "primary", Role: domain.RoleMaster},
		{Agent: "h2", InstanceID: "standby1", Role: domain.RoleAsyncReplica},
		{Agent: "h3", InstanceID: "standby2", Role: domain.RoleSyncReplica},
		{Agent: "h4", InstanceID: "sub", Role: domain.RoleAsyncReplica},
		{Agent: "h5", InstanceID: "copy", Role: domain.RoleAsyncReplica},
	}}
	reports := map[string]domain.InstanceStatus{
		"primary":  {Role: domain.DetectedPrimary},
		"standby1": {Role: domain.DetectedStandby},
		"standby2": {Role: domain.DetectedStandby},
		"sub":      {Role: domain.DetectedPrimary, Links: []domain.ReplicationLink{{Direction: "upstream", Kind: "logical"}}},
		"copy":     {Role: domain.DetectedPrimary},
	}
	return db, func(r domain.InstanceRef) (domain.InstanceStatus, bool) { s, ok := reports[r.InstanceID]; return s, ok }
}

// shape renders a plan as phases of "kind:instance" for comparison.
func shape(steps []domain.Step) string {
	var phases []string
	cur := -1
	for _, s := range steps {
		if s.PhaseIndex != cur {
			phases = append(phases, "|")
			cur = s.PhaseIndex
		}
		phases = append(phases, s.Kind+":"+s.InstanceID)
	}
	return strings.Join(phases, " ")
}

func TestForward(t *testing.T) {
	db, topo := cluster()
	cases := []struct {
		strategy domain.Strategy
		want     string
	}{
		{domain.Direct, "| apply:primary"},
		{domain.Phased, "| apply:sub | apply:copy | apply:primary | verify:standby1 verify:standby2"},
		{domain.Canary, "| apply:sub | apply:copy | apply:primary | verify:standby1 verify:standby2"},
	}
	for _, tc := range cases {
		p, err := Forward(db, tc.strategy, topo)
		if err != nil {
			t.Fatalf("%s: %v", tc.strategy, err)
		}
		if got := shape(p.Steps); got != tc.want {
			t.Errorf("%s plan = %s, want %s", tc.strategy, got, tc.want)
		}
		if len(p.Explanation) != len(p.Phases) {
			t.Errorf("%s: %d explanations for %d phases", tc.strategy, len(p.Explanation), len(p.Phases))
		}
	}
	if _, err := Forward(db, domain.BlueGreen, topo); err == nil {
		t.Error("BlueGreen planned; want ErrUnsupported")
	}
}

func TestCanaryWaves(t *testing.T) {
	db := domain.Database{Name: "big", Instances: []domain.InstanceRef{{Agent: "h", InstanceID: "m", Role: domain.RoleMaster}}}
	for i := 0; i < 19; i++ {
		db.Instances = append(db.Instances, domain.InstanceRef{Agent: "h", InstanceID: string(rune('a' + i)), Role: domain.RoleAsyncReplica})
	}
	topo := func(domain.InstanceRef) (domain.InstanceStatus, bool) {
		return domain.InstanceStatus{Role: domain.DetectedPrimary}, true
	}
	p, err := Forward(db, domain.Canary, topo)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Phases) != 3 || p.Phases[0].Steps != 2 || p.Phases[1].Steps != 8 || p.Phases[2].Steps != 10 {
		t.Fatalf("waves = %+v, want 2, 8, 10 of 20 units", p.Phases)
	}
	if last := p.Steps[len(p.Steps)-1]; last.InstanceID != "m" {
		t.Errorf("the master is in wave %d, want the last", last.PhaseIndex)
	}
}

func TestRollbackReversesAppliedPhases(t *testing.T) {
	db, topo := cluster()
	p, _ := Forward(db, domain.Phased, topo)
	for i := range p.Steps {
		p.Steps[i].Status = domain.StepSucceeded
	}
	got := shape(Rollback(p.Steps))
	want := "| apply:primary | apply:copy | apply:sub | verify:standby1 verify:standby2"
	if got != want {
		t.Fatalf("rollback = %s, want %s", got, want)
	}
	// Only what was applied is undone: a transactional step that failed is not.
	p.Steps[2].Status, p.Steps[2].Transactional = domain.StepFailed, true
	for i := 3; i < len(p.Steps); i++ {
		p.Steps[i].Status = domain.StepPending
	}
	if got := shape(Rollback(p.Steps)); got != "| apply:copy | apply:sub" {
		t.Fatalf("rollback after a failed master = %s", got)
	}
}

func TestFleetWaves(t *testing.T) {
	ids := make([]string, 100)
	for i := range ids {
		ids[i] = string(rune('a' + i%26))
	}
	w := FleetWaves(ids)
	if len(w) != 3 || len(w[0]) != 10 || len(w[1]) != 40 || len(w[2]) != 50 {
		t.Fatalf("waves of 100 = %d/%d/%d, want 10/40/50", len(w[0]), len(w[1]), len(w[2]))
	}
	if w := FleetWaves(ids[:2]); len(w) != 2 || len(w[0]) != 1 || len(w[1]) != 1 {
		t.Fatalf("waves of 2 = %v, want [1] [1]", w)
	}
}

func TestBlueGreenNeedsAGreenThatServesNoTraffic(t *testing.T) {
	db := domain.Database{Name: "app", Instances: []domain.InstanceRef{
		{Agent: "a", InstanceID: "green", Role: domain.RoleMaster}, {Agent: "b", InstanceID: "main", Role: domain.RoleAsyncReplica}}}
	spec := domain.BlueGreenSpec{Green: domain.InstanceRef{Agent: "a", InstanceID: "green"}, Agent: "a", Pooler: "bouncer"}
	if _, err := BlueGreenPlan(db, spec); err == nil || !strings.Contains(err.Error(), "a/green serves the traffic") {
		t.Errorf("BlueGreen onto the Master = %v, want a refusal naming it", err)
	}
	spec.Green = domain.InstanceRef{Agent: "b", InstanceID: "main"}
	p, err := BlueGreenPlan(db, spec)
	if err != nil || p.Steps[0].Agent != "b" || p.Steps[len(p.Steps)-1].Kind != domain.StepSwitch {
		t.Errorf("BlueGreen onto the former blue = %+v, %v", p.Steps, err)
	}
	spec.Green = domain.InstanceRef{Agent: "c", InstanceID: "x"}
	if _, err := BlueGreenPlan(db, spec); err == nil || !strings.Contains(err.Error(), "not a registered instance") {
		t.Errorf("unknown green = %v", err)
	}
}
