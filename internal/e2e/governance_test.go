package e2e

import (
	"errors"
	"net/http"
	"testing"
	"time"

	wire "github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// TestGovernanceOnThreeServers: on a real 3-server cluster a user logs in
// through a follower, a personal token revoked through the leader is
// refused at once by a follower, a High migration on Production runs only
// after two distinct approvals, and the audit log of it all survives the
// leader's death with its chain intact.
func TestGovernanceOnThreeServers(t *testing.T) {
	ctx := t.Context()
	servers := testbed.StartCluster(t, bins, 3)
	tok := bootstrapToken(t, servers)
	leader := leaderOf(t, servers, tok)
	f := followers(servers, leader)
	admin := wire.New(leader.URL(), tok)
	for _, u := range []struct {
		name string
		role domain.Role
	}{{"dora", domain.RoleDBA}, {"dave", domain.RoleDBA}, {"devi", domain.RoleDeveloper}} {
		if _, err := admin.CreateUser(ctx, wire.CreateUserRequest{Username: u.name, Password: u.name + "'s long passphrase", Role: u.role}); err != nil {
			t.Fatal(err)
		}
	}
	login := func(s *testbed.Server, name string) *wire.Client {
		t.Helper()
		l, err := wire.New(s.URL(), "").Login(ctx, name, name+"'s long passphrase")
		if err != nil {
			t.Fatalf("login of %s through %s: %v", name, s.ID, err)
		}
		return wire.New(s.URL(), l.Token)
	}
	dora := login(f[0], "dora") // through a follower

	// A personal token revoked through the leader is refused by a follower.
	pt, err := dora.CreateToken(ctx, wire.CreateTokenRequest{Name: "script"})
	if err != nil {
		t.Fatal(err)
	}
	viaFollower := wire.New(f[1].URL(), pt.Token)
	eventually(t, 10*time.Second, "the token to work on a follower", func() bool {
		_, err := viaFollower.ListDatabases(ctx)
		return err == nil
	})
	if err := viaFollower.RevokeToken(ctx, pt.TokenID); err != nil { // forwarded to the leader
		t.Fatal(err)
	}
	var ae *wire.Error
	if _, err := viaFollower.ListDatabases(ctx); !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Errorf("the revoked token on follower %s = %v, want 401 at once (the forwarded revoke answered once applied there)", f[1].ID, err)
	}
	eventually(t, 5*time.Second, "the other follower to refuse the revoked token", func() bool {
		_, err := wire.New(f[0].URL(), pt.Token).ListDatabases(ctx)
		return errors.As(err, &ae) && ae.Status == http.StatusUnauthorized
	})

	// A High migration on Production needs two distinct approvers.
	a := newAPI(t, leader, tok, nil)
	a.must(http.StatusCreated, "POST", "/api/v1/agents", map[string]string{"name": "host1"})
	a.must(http.StatusCreated, "POST", "/api/v1/databases", map[string]any{
		"name": "orders", "type": "PostgreSQL", "environment": "Production",
		"instances": []map[string]string{{"agent": "host1", "instanceId": "main", "role": "Master"}},
	})
	devi := login(f[1], "devi")
	m, err := devi.CreateMigration(ctx, domain.MigrationSpec{Name: "drop_legacy", TargetDatabaseID: "orders",
		MigrationScript: "ALTER TABLE users DROP COLUMN legacy;", RollbackScript: "ALTER TABLE users ADD COLUMN legacy text;"})
	if err != nil || m.RiskLevel != domain.RiskHigh {
		t.Fatalf("create = %+v, %v; want a High migration", m, err)
	}
	if _, err := admin.ExecuteMigration(ctx, m.MigrationID, wire.ExecuteRequest{}); !errors.As(err, &ae) || ae.Status != http.StatusConflict {
		t.Fatalf("execute before approvals = %v, want 409", err)
	}
	for _, approver := range []*wire.Client{dora, dora, login(f[0], "dave")} {
		if _, err := approver.ApproveMigration(ctx, m.MigrationID, wire.ApproveRequest{Notes: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	st, err := admin.MigrationApprovals(ctx, m.MigrationID)
	if err != nil || !st.Satisfied || st.Valid != 2 {
		t.Fatalf("approvals = %+v, %v; want satisfied by two distinct approvers (dora twice counts once)", st, err)
	}
	if _, err := devi.ApproveMigration(ctx, m.MigrationID, wire.ApproveRequest{}); !errors.As(err, &ae) || ae.Status != http.StatusForbidden {
		t.Errorf("the author (a Developer) approving = %v, want 403", err)
	}

	// The audit log survives the leader's death, chain intact.
	before, err := admin.ListAudit(ctx, wire.AuditQuery{Target: m.MigrationID})
	if err != nil || before.Total < 4 {
		t.Fatalf("audit of the migration = %+v, %v; want its creation and approvals", before, err)
	}
	leader.Kill()
	next := leaderOf(t, f, tok)
	after, err := wire.New(next.URL(), tok).ListAudit(ctx, wire.AuditQuery{Target: m.MigrationID})
	if err != nil || after.Total != before.Total {
		t.Errorf("audit after failover = %d entries (%v), want the %d from before", after.Total, err, before.Total)
	}
	if v, err := wire.New(next.URL(), tok).VerifyAudit(ctx); err != nil || !v.Valid {
		t.Errorf("audit chain after failover = %+v, %v; want valid", v, err)
	}
	logins, err := wire.New(next.URL(), tok).ListAudit(ctx, wire.AuditQuery{Type: "login"})
	if err != nil || logins.Total != 3 { // dora, devi and dave, each through a follower
		t.Errorf("logins in the audit log = %+v, %v; want one per login", logins.Total, err)
	}
}
