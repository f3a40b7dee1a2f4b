package planner

import (
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/domain"
	// The MySQL checker is the rolling-change capability these tests plan with.
	_ "github.com/hotswap-db/hotswap/internal/sqlcheck/mysqlcheck"
)

// mysqlCluster is a MariaDB primary with two replicas.
func mysqlCluster() (domain.Database, Topology) {
	db := domain.Database{Name: "shop", Type: domain.MySQL, Instances: []domain.InstanceRef{
		{Agent: "h1", InstanceID: "primary", Role: domain.RoleMaster},
		{Agent: "h2", InstanceID: "r1", Role: domain.RoleAsyncReplica},
		{Agent: "h3", InstanceID: "r2", Role: domain.RoleAsyncReplica},
	}}
	up := []domain.ReplicationLink{{Direction: "upstream", Kind: "binlog"}}
	reports := map[string]domain.InstanceStatus{
		"primary": {Role: domain.DetectedPrimary},
		"r1":      {Role: domain.DetectedStandby, Links: up},
		"r2":      {Role: domain.DetectedStandby, Links: up},
	}
	return db, func(r domain.InstanceRef) (domain.InstanceStatus, bool) { s, ok := reports[r.InstanceID]; return s, ok }
}

func TestForwardScriptMySQL(t *testing.T) {
	db, topo := mysqlCluster()
	cases := []struct {
		script, want, why string
		local             bool
	}{
		{"ALTER TABLE t ADD COLUMN c int", "| apply:r1 | apply:r2 | apply:primary", "rolling schema change", true},
		{"ALTER TABLE t DROP COLUMN c", "| apply:primary | verify:r1 verify:r2", "primary only", false},
	}
	for _, tc := range cases {
		p, err := ForwardScript(db, domain.Phased, topo, tc.script)
		if err != nil {
			t.Fatal(err)
		}
		if got := shape(p.Steps); got != tc.want {
			t.Errorf("%s: plan %s, want %s", tc.script, got, tc.want)
		}
		if text := strings.Join(p.Explanation, "\n"); !strings.Contains(text, tc.why) {
			t.Errorf("%s: explanation %q does not say %q", tc.script, text, tc.why)
		}
		for _, s := range p.Steps {
			if s.Kind == domain.StepApply && s.LocalOnly != tc.local {
				t.Errorf("%s: step %s LocalOnly %v, want %v", tc.script, s.StepID, s.LocalOnly, tc.local)
			}
		}
	}
	// Other engines and strategies plan as Forward does.
	p, err := ForwardScript(db, domain.Direct, topo, "ALTER TABLE t ADD COLUMN c int")
	if err != nil || shape(p.Steps) != "| apply:primary" {
		t.Errorf("Direct: %s, %v", shape(p.Steps), err)
	}
}
