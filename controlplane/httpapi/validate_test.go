package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

func table(rows, bytes int64, indexes ...domain.IndexFacts) domain.RelationFacts {
	return domain.RelationFacts{Exists: true, Kind: "table", ResolvedSchema: "public", Rows: rows, Bytes: bytes,
		Columns: map[string]string{"id": "bigint", "email": "text"}, WritesPerSecond: 0, Indexes: indexes}
}

func TestValidateLive(t *testing.T) {
	h := newHarness(t)
	f := h.addDatabase(t)
	ctx := context.Background()
	h.catalog.rels = map[string]domain.RelationFacts{
		"big":   table(5_000_000, 2<<30, domain.IndexFacts{Name: "big_email", Columns: []string{"email"}, Valid: true}),
		"tiny":  table(10, 8192),
		"taken": {Exists: true, Kind: "table"},
	}
	h.catalog.free = 1 << 40
	script := "CREATE INDEX tiny_email ON tiny (email);\nCREATE INDEX big_email2 ON big (email);\n" +
		"ALTER TABLE nosuch ADD COLUMN x int;\nCREATE TABLE taken (id int);"
	m, err := h.client.CreateMigration(ctx, riskSpec(f, "live", script, ""))
	if err != nil {
		t.Fatalf("CreateMigration() error = %v", err)
	}
	got, err := h.client.ValidateMigration(ctx, m.MigrationID, api.ValidateRequest{DryRun: true})
	if err != nil {
		t.Fatalf("ValidateMigration() error = %v", err)
	}
	if !got.Live || got.Instance != agentName+"/main" || got.IsValid {
		t.Fatalf("validation = %+v, want live on the master, not valid", got)
	}
	rules := map[string][]api.ValidationIssue{}
	for _, i := range append(got.Errors, got.Warnings...) {
		rules[i.Rule] = append(rules[i.Rule], i)
	}
	if w := rules["require-concurrent-index-creation"]; len(w) != 1 || w[0].Object != "big" || !strings.Contains(w[0].Recommendation, "CONCURRENTLY") {
		t.Errorf("index build warnings = %+v, want one, on big (tiny has 10 rows), with the rewrite as recommendation", w)
	}
	if e := rules["missing-table"]; len(e) != 1 || e[0].Object != "nosuch" {
		t.Errorf("missing-table = %+v, want nosuch", e)
	}
	if e := rules["name-exists"]; len(e) != 1 || e[0].Object != "taken" {
		t.Errorf("name-exists = %+v, want taken", e)
	}
	if d := rules["duplicate-index"]; len(d) != 1 || d[0].Object != "big_email" {
		t.Errorf("duplicate-index = %+v, want big_email", d)
	}
	if got.EstimatedDuration < 20 || got.RequiredDiskBytes <= 0 {
		t.Errorf("estimate = %ds, %d bytes; want the 2 GiB build to take a while and need disk", got.EstimatedDuration, got.RequiredDiskBytes)
	}
	if !strings.Contains(strings.Join(got.DependencyCheck.AffectedObjects, "\n"), "table big (about 5000000 rows, 2 GiB)") {
		t.Errorf("affected = %q, want big with its size", got.DependencyCheck.AffectedObjects)
	}
}

func TestValidateStaticWithoutAgent(t *testing.T) {
	h := newHarness(t)
	f := h.addDatabase(t)
	ctx := context.Background()
	m, err := h.client.CreateMigration(ctx, riskSpec(f, "static", "CREATE INDEX t_a ON t (a);", ""))
	if err != nil {
		t.Fatal(err)
	}
	h.presence.set(agentName, domain.AgentPresence{})
	got, err := h.client.ValidateMigration(ctx, m.MigrationID, api.ValidateRequest{})
	if err != nil {
		t.Fatalf("ValidateMigration() error = %v", err)
	}
	if got.Live || !strings.Contains(got.LiveReason, "not connected") || len(got.Warnings) != 1 || !got.IsValid ||
		got.ComputedRisk != domain.RiskMedium {
		t.Errorf("validation = %+v, want static (saying why), the index build as a warning, valid, Medium", got)
	}
}
