package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

const dropColumn = "ALTER TABLE t DROP COLUMN legacy;"

func riskSpec(f fixture, name, script string, risk domain.RiskLevel) domain.MigrationSpec {
	return domain.MigrationSpec{Name: name, TargetDatabaseID: f.db.DatabaseID, MigrationScript: script,
		RollbackScript: "SELECT 1;", Strategy: domain.Direct, RiskLevel: risk}
}

func TestCreateReturnsFindingsAndComputedRisk(t *testing.T) {
	h := newHarness(t)
	f := h.addDatabase(t)
	ctx := context.Background()
	script := "CREATE INDEX t_a ON t (a);\nSELECT 'DROP TABLE t' AS bait;"
	m, err := h.client.CreateMigration(ctx, riskSpec(f, "index_a", script, ""))
	if err != nil {
		t.Fatalf("CreateMigration() error = %v", err)
	}
	if m.ComputedRisk != domain.RiskMedium || m.RiskLevel != domain.RiskMedium || !m.RequiresApproval {
		t.Errorf("risk = %s, computed %s, approval %v; want Medium computed, taken as the risk, approval required",
			m.RiskLevel, m.ComputedRisk, m.RequiresApproval)
	}
	if len(m.Findings) != 1 || m.Findings[0].Rule != "require-concurrent-index-creation" || m.Findings[0].Line != 1 ||
		!strings.Contains(m.Findings[0].Rewrite, "CONCURRENTLY") || m.Findings[0].Severity != "warning" {
		t.Errorf("findings = %+v, want the blocking index build with its CONCURRENTLY rewrite", m.Findings)
	}
	stored, err := h.client.GetMigration(ctx, m.MigrationID)
	if err != nil || stored.ComputedRisk != domain.RiskMedium || len(stored.Findings) != 1 {
		t.Errorf("stored = %+v, %v; want the findings and computed risk kept in the state", stored, err)
	}

	safe, err := h.client.CreateMigration(ctx, riskSpec(f, "add_b", "ALTER TABLE t ADD COLUMN b int;", ""))
	if err != nil || safe.RiskLevel != domain.RiskLow || safe.RequiresApproval || len(safe.Findings) != 0 {
		t.Errorf("additive migration = %+v, %v; want Low, no approval, no findings", safe, err)
	}
}

func TestLowerRiskIsRefusedWithTheComputedOne(t *testing.T) {
	h := newHarness(t)
	f := h.addDatabase(t)
	ctx := context.Background()
	for _, risk := range []domain.RiskLevel{domain.RiskLow, domain.RiskMedium} {
		before := h.view()
		_, err := h.client.CreateMigration(ctx, riskSpec(f, "drop_legacy", dropColumn, risk))
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
			t.Fatalf("create with risk %s: error = %v, want a 400", risk, err)
		}
		text := ae.Message + detailsText(api.ErrorDetail{Details: ae.Details})
		for _, want := range []string{"riskLevel", "computed risk is High", "ban-drop-column at line 1", "never lowered"} {
			if !strings.Contains(text, want) {
				t.Errorf("create with risk %s: error %q, want it to say %q", risk, text, want)
			}
		}
		h.unchanged(t, before)
	}
	lowered := riskSpec(f, "drop_legacy_lowered", dropColumn, domain.RiskLow)
	lowered.RiskReason = "the column was never written: checked in the audit of the app"
	dev := h.loginAs(t, "devi", domain.RoleDeveloper)
	if _, err := dev.CreateMigration(ctx, lowered); status(err) != http.StatusBadRequest || !strings.Contains(detailsOf(err), "an Admin may") {
		t.Errorf("a Developer lowering the risk with a reason = %v, want 400 (Admin only)", err)
	}
	low, err := h.client.CreateMigration(ctx, lowered)
	if err != nil || low.RiskLevel != domain.RiskLow || low.RiskOverride == nil || low.RiskOverride.By != "admin" ||
		low.RiskOverride.Computed != domain.RiskHigh || low.RiskOverride.Reason != lowered.RiskReason {
		t.Fatalf("an Admin lowering the risk with a reason = %+v, %v; want Low with the override recorded", low, err)
	}
	m, err := h.client.CreateMigration(ctx, riskSpec(f, "drop_legacy", dropColumn, domain.RiskHigh))
	if err != nil || m.RiskLevel != domain.RiskHigh {
		t.Fatalf("create with the computed risk: %+v, %v", m, err)
	}
	raised, err := h.client.CreateMigration(ctx, riskSpec(f, "add_c", "ALTER TABLE t ADD COLUMN c int;", domain.RiskHigh))
	if err != nil || raised.RiskLevel != domain.RiskHigh || raised.ComputedRisk != domain.RiskLow || !raised.RequiresApproval {
		t.Errorf("a raised risk = %+v, %v; want High kept over the computed Low", raised, err)
	}
}

func TestUpdateRecomputesTheRisk(t *testing.T) {
	h := newHarness(t)
	f := h.addDatabase(t)
	ctx := context.Background()
	m := h.addMigration(t, f, "c1") // Low: ADD COLUMN
	spec := riskSpec(f, "c1", dropColumn, domain.RiskLow)
	before := h.view()
	if _, err := h.client.UpdateMigration(ctx, m.MigrationID, spec); !errors.Is(err, api.ErrValidation) {
		t.Fatalf("update to a drop at Low: error = %v, want a 400", err)
	}
	h.unchanged(t, before)
	spec.RiskLevel = ""
	spec.MigrationScript = "-- hotswap:ignore ban-drop-column replaced by c2 in 4.1\n" + dropColumn
	up, err := h.client.UpdateMigration(ctx, m.MigrationID, spec)
	if err != nil {
		t.Fatalf("UpdateMigration() error = %v", err)
	}
	if up.RiskLevel != domain.RiskHigh || up.ComputedRisk != domain.RiskHigh || len(up.Findings) != 0 ||
		len(up.IgnoredFindings) != 1 || up.IgnoredFindings[0].IgnoreReason != "replaced by c2 in 4.1" {
		t.Errorf("updated = risk %s computed %s findings %+v ignored %+v; want High with the ignore and its reason kept",
			up.RiskLevel, up.ComputedRisk, up.Findings, up.IgnoredFindings)
	}
}

// detailsOf is an API error's message and details, "" for another error.
func detailsOf(err error) string {
	var ae *api.Error
	if !errors.As(err, &ae) {
		return ""
	}
	return ae.Message + detailsText(api.ErrorDetail{Details: ae.Details})
}
