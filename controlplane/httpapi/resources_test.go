package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

func TestDatabases(t *testing.T) {
	h := newHarness(t)
	f := h.addDatabase(t)
	ctx := context.Background()
	if f.db.DatabaseID == "" || f.db.Name != "app" || len(f.db.Instances) != 2 || f.db.CreatedAt.IsZero() {
		t.Fatalf("CreateDatabase() = %+v, want app with an id, two instances and a creation time", f.db)
	}
	for _, key := range []string{f.db.DatabaseID, "app"} {
		got, err := h.client.GetDatabase(ctx, key)
		if err != nil || got.DatabaseID != f.db.DatabaseID {
			t.Errorf("GetDatabase(%s) = %+v, %v; want %s", key, got, err, f.db.DatabaseID)
		}
	}
	list, err := h.client.ListDatabases(ctx)
	if err != nil || list.Total != 1 || len(list.Databases) != 1 || list.Databases[0].Name != "app" {
		t.Fatalf("ListDatabases() = %+v, %v; want app alone", list, err)
	}

	spec := domain.DatabaseSpec{Name: "app", Description: "billing", Type: domain.PostgreSQL, Environment: domain.Staging,
		Instances: []domain.InstanceRef{{Agent: agentName, InstanceID: "main", Role: domain.RoleMaster}}}
	up, err := h.client.UpdateDatabase(ctx, "app", spec)
	if err != nil || up.Description != "billing" || up.Environment != domain.Staging || len(up.Instances) != 1 {
		t.Fatalf("UpdateDatabase() = %+v, %v; want the new description, environment and one instance", up, err)
	}
	if got, _ := h.client.GetDatabase(ctx, "app"); got.Description != "billing" {
		t.Errorf("after the update, GetDatabase() = %+v, want description billing", got)
	}

	spec.Instances = []domain.InstanceRef{{Agent: "nobody", InstanceID: "main", Role: domain.RoleMaster}}
	before := h.view()
	if _, err := h.client.CreateDatabase(ctx, spec); !errors.Is(err, api.ErrValidation) {
		t.Errorf("CreateDatabase() on an unregistered agent: error = %v, want a 400", err)
	}
	h.unchanged(t, before)

	if err := h.client.DeleteDatabase(ctx, "app"); err != nil {
		t.Fatalf("DeleteDatabase() error = %v", err)
	}
	if _, err := h.client.GetDatabase(ctx, "app"); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("GetDatabase() after the delete: error = %v, want 404", err)
	}
}

func TestDatabaseHealth(t *testing.T) {
	h := newHarness(t)
	h.addDatabase(t)
	ctx := context.Background()
	got, err := h.client.DatabaseHealth(ctx, "app")
	if err != nil || !got.IsHealthy || len(got.Instances) != 2 || !got.Instances[0].AgentConnected {
		t.Fatalf("DatabaseHealth() = %+v, %v; want healthy, two connected instances", got, err)
	}
	h.presence.set(agentName, domain.AgentPresence{})
	got, err = h.client.DatabaseHealth(ctx, "app")
	if err != nil || got.IsHealthy || len(got.Problems) != 2 {
		t.Fatalf("DatabaseHealth() with the agent gone = %+v, %v; want two problems", got, err)
	}
}

func TestDatabaseHistoryFindsDrift(t *testing.T) {
	h := newHarness(t)
	h.addDatabase(t)
	h.history[agentName+"/main"] = []domain.HistoryRow{{ExecutionID: "exec-gone", StepID: "s1", MigrationName: "old",
		Direction: domain.Forward, AppliedAt: time.Now()}}
	got, err := h.client.DatabaseHistory(context.Background(), "app")
	if err != nil {
		t.Fatalf("DatabaseHistory() error = %v", err)
	}
	if got.InSync || len(got.Drift) != 1 || got.Drift[0].Kind != "unknown" || len(got.Instances) != 2 || got.Instances[1].Error == "" {
		t.Errorf("DatabaseHistory() = %+v, want one unknown step on main and replica unreadable", got)
	}
}

func TestMigrations(t *testing.T) {
	h := newHarness(t)
	f := h.addDatabase(t)
	ctx := context.Background()
	m1, m2 := h.addMigration(t, f, "c1"), h.addMigration(t, f, "c2")
	if m1.Status != domain.MigrationDraft || m1.CreatedBy != "admin" || m1.MigrationID == m2.MigrationID {
		t.Fatalf("CreateMigration() = %+v, want a Draft by admin with its own id", m1)
	}
	got, err := h.client.GetMigration(ctx, m1.MigrationID)
	if err != nil || got.MigrationScript != m1.MigrationScript || got.TargetDatabaseID != f.db.DatabaseID {
		t.Fatalf("GetMigration() = %+v, %v; want c1 with its script on %s", got, err, f.db.DatabaseID)
	}
	list, err := h.client.ListMigrations(ctx, api.ListMigrationsRequest{Database: "app", Limit: 1, Offset: 1})
	if err != nil || list.Total != 2 || len(list.Migrations) != 1 || list.Migrations[0].MigrationID != m2.MigrationID ||
		list.Migrations[0].TargetDatabase != "app" {
		t.Fatalf("ListMigrations(app, limit 1, offset 1) = %+v, %v; want c2 of 2, on app", list, err)
	}
	if list, err := h.client.ListMigrations(ctx, api.ListMigrationsRequest{Status: domain.MigrationSucceeded}); err != nil || list.Total != 0 {
		t.Errorf("ListMigrations(Succeeded) = %+v, %v; want none", list, err)
	}
	if _, err := h.client.ListMigrations(ctx, api.ListMigrationsRequest{Status: "Sideways"}); !errors.Is(err, api.ErrValidation) {
		t.Errorf("ListMigrations(Sideways) error = %v, want a 400", err)
	}

	spec := domain.MigrationSpec{Name: "c1", TargetDatabaseID: "app", MigrationScript: "CREATE INDEX i ON t (c);",
		RollbackScript: "DROP INDEX i;", Strategy: domain.Canary, Tags: []string{"index"}}
	up, err := h.client.UpdateMigration(ctx, m1.MigrationID, spec)
	if err != nil || up.Strategy != domain.Canary || up.MigrationScript != spec.MigrationScript || up.TargetDatabaseID != f.db.DatabaseID {
		t.Fatalf("UpdateMigration() = %+v, %v; want Canary with the new script, on %s", up, err, f.db.DatabaseID)
	}

	if err := h.client.DeleteMigration(ctx, m2.MigrationID); err != nil {
		t.Fatalf("DeleteMigration() error = %v", err)
	}
	if _, err := h.client.GetMigration(ctx, m2.MigrationID); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("GetMigration() after the delete: error = %v, want 404", err)
	}
	if a := h.do(t, http.MethodGet, "/api/v1/migrations?limit=0", adminToken, ""); a.status != http.StatusBadRequest {
		t.Errorf("GET /api/v1/migrations?limit=0: status %d, want 400", a.status)
	}
}

func TestAgents(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	tok, err := h.client.CreateAgentToken(ctx, "host1")
	if err != nil || tok.Name != "host1" || len(tok.Token) < 32 {
		t.Fatalf("CreateAgentToken() = %+v, %v; want a token for host1", tok, err)
	}
	if _, ok := h.raft.State().AgentByTokenHash(hashOf(tok.Token)); !ok {
		t.Error("the new agent's token does not authenticate it")
	}
	if _, err := h.client.CreateAgentToken(ctx, "host1"); !errors.Is(err, api.ErrConflict) {
		t.Errorf("CreateAgentToken(host1) again: error = %v, want 409", err)
	}
	if _, err := h.client.CreateAgentToken(ctx, "no spaces"); !errors.Is(err, api.ErrValidation) {
		t.Errorf("CreateAgentToken(\"no spaces\"): error = %v, want 400", err)
	}
	h.presence.set("host1", domain.AgentPresence{Connected: true, Instances: []domain.InstanceStatus{{InstanceID: "main", Reachable: true}}})
	list, err := h.client.ListAgents(ctx, api.ListAgentsRequest{})
	if err != nil || list.Total != 1 || !list.Agents[0].Connected || list.Agents[0].Instances != 1 {
		t.Fatalf("ListAgents() = %+v, %v; want host1 connected with one instance", list, err)
	}
	if a, err := h.client.GetAgent(ctx, "host1"); err != nil || a.Name != "host1" || !a.Connected {
		t.Errorf("GetAgent(host1) = %+v, %v", a, err)
	}
	if err := h.client.DeleteAgent(ctx, "host1"); err != nil {
		t.Fatalf("DeleteAgent() error = %v", err)
	}
	if _, ok := h.raft.State().AgentByTokenHash(hashOf(tok.Token)); ok {
		t.Error("a deleted agent's token still authenticates it")
	}
}

func TestCluster(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	st, err := h.client.ClusterStatus(ctx)
	if err != nil || st.Leader != "s1" || len(st.Servers) != 1 {
		t.Fatalf("ClusterStatus() = %+v, %v; want s1 leading alone", st, err)
	}
	if hl, err := h.client.Health(ctx); err != nil || hl.Status != "ok" || hl.Leader != "s1" {
		t.Errorf("Health() = %+v, %v; want ok with leader s1", hl, err)
	}
	srv, err := h.client.JoinCluster(ctx, api.JoinRequest{ID: "s2", RaftAddr: "10.0.0.2:7001", HTTPAddr: "10.0.0.2:7002", RPCAddr: "10.0.0.2:7003"})
	if err != nil || srv.ID != "s2" {
		t.Fatalf("JoinCluster(s2) = %+v, %v", srv, err)
	}
	if got := h.raft.State().Servers()["s2"]; got.HTTPAddr != "10.0.0.2:7002" || len(h.raft.voters) != 1 {
		t.Errorf("after the join: server %+v, voters %v; want s2 recorded and added as a voter", got, h.raft.voters)
	}
	before := h.view()
	if _, err := h.client.JoinCluster(ctx, api.JoinRequest{ID: "s3", RaftAddr: "nowhere"}); !errors.Is(err, api.ErrValidation) {
		t.Errorf("JoinCluster() with bad addresses: error = %v, want 400", err)
	}
	h.unchanged(t, before)
	if err := h.client.RemoveServer(ctx, "s2"); err != nil || len(h.raft.removed) != 1 {
		t.Errorf("RemoveServer(s2) error = %v, removed %v", err, h.raft.removed)
	}
	if err := h.client.RemoveServer(ctx, "s1"); !errors.Is(err, api.ErrValidation) {
		t.Errorf("RemoveServer(self) error = %v, want 400", err)
	}
}
