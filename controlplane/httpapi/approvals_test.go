package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// wantStatus fails unless err is an *api.Error of status whose message holds text.
func wantStatus(t *testing.T, what string, err error, status int, text string) {
	t.Helper()
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status != status || !strings.Contains(ae.Message, text) {
		t.Errorf("%s: error = %v, want %d containing %q", what, err, status, text)
	}
}

func TestHighRiskNeedsTwoDistinctApprovers(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	f := h.addDatabase(t) // Production
	dev := h.loginAs(t, "devon", domain.RoleDeveloper)
	m, err := dev.CreateMigration(ctx, riskSpec(f, "high_one", "ALTER TABLE t ADD COLUMN c int;", domain.RiskHigh))
	if err != nil {
		t.Fatal(err)
	}
	dba1, dba2 := h.loginAs(t, "dba1", domain.RoleDBA), h.loginAs(t, "dba2", domain.RoleDBA)

	_, err = dba1.ExecuteMigration(ctx, m.MigrationID, api.ExecuteRequest{})
	wantStatus(t, "execute without approvals", err, http.StatusConflict, "0 of 2 approvals")
	_, err = dev.ApproveMigration(ctx, m.MigrationID, api.ApproveRequest{})
	wantStatus(t, "a Developer approving", err, http.StatusForbidden, "may not call")

	for i, c := range []*api.Client{dba1, dba1} {
		if _, err := c.ApproveMigration(ctx, m.MigrationID, api.ApproveRequest{Notes: "looks fine"}); err != nil {
			t.Fatalf("approval %d: %v", i, err)
		}
	}
	_, err = dba1.ExecuteMigration(ctx, m.MigrationID, api.ExecuteRequest{})
	wantStatus(t, "execute with one approver twice", err, http.StatusConflict, "1 of 2 approvals")

	d, err := dba2.ApproveMigration(ctx, m.MigrationID, api.ApproveRequest{})
	if err != nil || !d.Approvals.Satisfied || d.ReviewedBy != "dba2" || d.Status != domain.Approved {
		t.Fatalf("second approver: %+v, %v; want satisfied", d, err)
	}
	st, err := dev.MigrationApprovals(ctx, m.MigrationID)
	if err != nil || st.Required != 2 || st.Valid != 2 || len(st.Approvals) != 3 {
		t.Errorf("approvals = %+v, %v; want 2 of 2 from 3 decisions", st, err)
	}
	if _, err := dba1.ExecuteMigration(ctx, m.MigrationID, api.ExecuteRequest{}); err != nil {
		t.Errorf("execute after two approvals: %v", err)
	}
}

func TestApprovalRules(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	f := h.addDatabase(t)
	// The harness's admin token is the author here.
	m, err := h.client.CreateMigration(ctx, riskSpec(f, "medium_one", "ALTER TABLE t ADD COLUMN c int;", domain.RiskMedium))
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.client.ApproveMigration(ctx, m.MigrationID, api.ApproveRequest{})
	wantStatus(t, "self-approval", err, http.StatusForbidden, "cannot approve")
	dba := h.loginAs(t, "dba", domain.RoleDBA)
	if _, err := dba.ApproveMigration(ctx, m.MigrationID, api.ApproveRequest{}); err != nil {
		t.Fatal(err)
	}
	if st, _ := dba.MigrationApprovals(ctx, m.MigrationID); !st.Satisfied || st.Required != 1 {
		t.Errorf("Medium on Production after one approval = %+v, want 1 required and satisfied", st)
	}

	h.skew.Store(int64(domain.ApprovalTTL + time.Hour))
	l, err := api.New(h.srv.URL, "").Login(ctx, "dba", "secret-dba") // the first login token expired too
	if err != nil {
		t.Fatal(err)
	}
	dba = api.New(h.srv.URL, l.Token)
	if st, _ := dba.MigrationApprovals(ctx, m.MigrationID); st.Satisfied || st.Valid != 0 {
		t.Errorf("after 7 days = %+v, want the approval expired", st)
	}
	if _, err := dba.ApproveMigration(ctx, m.MigrationID, api.ApproveRequest{}); err != nil {
		t.Fatal(err)
	}
	spec := riskSpec(f, "medium_one", "ALTER TABLE t ADD COLUMN d int;", domain.RiskMedium)
	if _, err := h.client.UpdateMigration(ctx, m.MigrationID, spec); err != nil {
		t.Fatal(err)
	}
	if st, _ := dba.MigrationApprovals(ctx, m.MigrationID); st.Satisfied || len(st.Approvals) != 0 {
		t.Errorf("after the script changed = %+v, want the approvals withdrawn", st)
	}

	_, err = dba.RejectMigration(ctx, m.MigrationID, api.RejectRequest{})
	wantStatus(t, "reject without a reason", err, http.StatusBadRequest, "reason")
	if _, err := dba.ApproveMigration(ctx, m.MigrationID, api.ApproveRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.loginAs(t, "dba2", domain.RoleDBA).RejectMigration(ctx, m.MigrationID, api.RejectRequest{Reason: "locks orders"}); err != nil {
		t.Fatal(err)
	}
	_, err = dba.ExecuteMigration(ctx, m.MigrationID, api.ExecuteRequest{})
	wantStatus(t, "execute a rejected migration", err, http.StatusConflict, "rejected by dba2")

	low := h.addMigration(t, f, "low_one")
	if st, _ := dba.MigrationApprovals(ctx, low.MigrationID); !st.Satisfied || st.Required != 0 {
		t.Errorf("Low risk = %+v, want nothing required", st)
	}
}
