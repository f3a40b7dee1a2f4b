package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

func TestAuditLog(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	f := h.addDatabase(t)
	m, err := h.client.CreateMigration(ctx, riskSpec(f, "audited", "ALTER TABLE t ADD COLUMN c int;", domain.RiskMedium))
	if err != nil {
		t.Fatal(err)
	}
	dba := h.loginAs(t, "auditor", domain.RoleDBA)
	if _, err := dba.ApproveMigration(ctx, m.MigrationID, api.ApproveRequest{}); err != nil {
		t.Fatal(err)
	}
	_ = h.client.DeleteUser(ctx, "nosuch") // refused: recorded as refused

	l, err := dba.ListAudit(ctx, api.AuditQuery{User: "auditor", Type: "decide_migration"})
	if err != nil || l.Total != 1 || l.Entries[0].Action != "decide_migration" || l.Entries[0].Target != m.MigrationID ||
		l.Entries[0].Role != "DBA" || l.Entries[0].Outcome != "ok" {
		t.Fatalf("audit of auditor = %+v, %v; want one decide_migration on %s", l, err, m.MigrationID)
	}
	logins, err := dba.ListAudit(ctx, api.AuditQuery{User: "auditor", Type: "login"})
	if err != nil || logins.Total != 1 || logins.Entries[0].Outcome != "ok" || logins.Entries[0].From == "" {
		t.Errorf("audit of auditor's login = %+v, %v; want one successful login with its address", logins, err)
	}
	if _, err := h.client.Login(ctx, "auditor", "not the password"); err == nil {
		t.Fatal("a wrong password logged in")
	}
	failed, err := dba.ListAudit(ctx, api.AuditQuery{User: "auditor", Type: "login"})
	if err != nil || failed.Total != 2 || !strings.Contains(failed.Entries[0].Outcome+failed.Entries[1].Outcome, "refused: login failed") {
		t.Errorf("audit of a failed login = %+v, %v; want it recorded as refused", failed, err)
	}
	refused, err := dba.ListAudit(ctx, api.AuditQuery{Type: "delete_user"})
	if err != nil || refused.Total != 1 || !strings.HasPrefix(refused.Entries[0].Outcome, "refused:") || refused.Entries[0].Actor != "admin" {
		t.Errorf("audit of the refused delete = %+v, %v", refused, err)
	}
	created, _ := dba.ListAudit(ctx, api.AuditQuery{Type: "create_user"})
	if created.Total != 1 || created.Entries[0].Target != "auditor" {
		t.Errorf("audit of create_user = %+v", created)
	}
	csv, err := dba.ExportAudit(ctx, "csv", api.AuditQuery{Target: m.MigrationID})
	if err != nil || !strings.HasPrefix(string(csv), "seq,index,at,actor") || !strings.Contains(string(csv), "decide_migration") {
		t.Errorf("CSV export = %q, %v", csv, err)
	}
	jl, err := dba.ExportAudit(ctx, "jsonl", api.AuditQuery{})
	all, _ := dba.ListAudit(ctx, api.AuditQuery{Limit: 1000})
	if err != nil || strings.Count(string(jl), "\n") != all.Total || all.Total < 5 {
		t.Errorf("JSON lines export has %d lines, want %d (>= 5): %v", strings.Count(string(jl), "\n"), all.Total, err)
	}
	v, err := dba.VerifyAudit(ctx)
	if err != nil || !v.Valid || v.Entries != all.Total {
		t.Errorf("verify = %+v, %v; want valid over %d entries", v, err, all.Total)
	}
	if strings.Contains(string(jl), "secret-auditor") || strings.Contains(string(jl), "$2a$") {
		t.Error("the audit log holds a password or its hash")
	}
	if _, err := h.loginAs(t, "vi", domain.RoleViewer).ListAudit(ctx, api.AuditQuery{}); err == nil {
		t.Error("a Viewer read the audit log")
	}

	tampered := append([]domain.AuditEntry(nil), all.Entries...)
	tampered[2].Actor = "someone-else"
	if at, ok := domain.VerifyAuditChain(tampered, ""); ok || at != tampered[2].Seq {
		t.Errorf("a tampered entry: verify = %d, %v; want broken at %d", at, ok, tampered[2].Seq)
	}
}
