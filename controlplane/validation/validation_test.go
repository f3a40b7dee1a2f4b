package validation

import (
	"testing"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/lint"
)

func TestDiskAndLag(t *testing.T) {
	t.Parallel()
	facts := &domain.CatalogFacts{FreeDiskBytes: 1 << 30, Relations: []domain.RelationFacts{{ObjectName: domain.ObjectName{Name: "big"},
		Exists: true, Kind: "table", Rows: 1e7, Bytes: 4 << 30, Columns: map[string]string{"id": "bigint"}, WritesPerSecond: 200}}}
	r := lint.Result{Statements: []lint.Statement{{Index: 1}}, Risk: domain.RiskHigh,
		Findings: []lint.Finding{{Rule: "changing-column-type", Severity: lint.Warning, Class: lint.ClassTypeChange, Statement: 1,
			Table: "big", Effect: lint.Effect{Lock: "ACCESS EXCLUSIVE", Duration: "until the rewrite ends", Work: lint.WorkRewrite}}}}
	got := Judge(Input{Result: r, Facts: facts, MaxLagSeconds: 60,
		Replicas: []Replica{{Name: "h/r1", LagSeconds: 90}, {Name: "h/r2", LagSeconds: 1}}})
	rules := map[string]int{}
	for _, i := range append(got.Errors, got.Warnings...) {
		rules[i.Rule]++
	}
	if got.IsValid || rules["disk-space"] != 1 || rules["replica-lag"] != 1 || rules["writes-blocked"] != 1 {
		t.Errorf("issues = %v (valid %v), want a disk-space error, one lagging replica and blocked writes", rules, got.IsValid)
	}
	if got.RequiredDiskBytes != 4<<30 || got.EstimatedDuration < 80 || got.MaxReplicationLagSeconds != 90 {
		t.Errorf("disk %d, %ds, lag %v; want the table's size again, about 82s at 50 MiB/s, 90s", got.RequiredDiskBytes,
			got.EstimatedDuration, got.MaxReplicationLagSeconds)
	}
	if cols := normalizeColumns([]string{`lower(email::text)`, `"Id"`}); cols[0] != "lower(email)" || cols[1] != "id" {
		t.Errorf("normalizeColumns = %q", cols)
	}
}
