package e2e

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	wire "github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// TestOperatorRaftAndSnapshot moves the leadership of a three-server
// cluster to a named server, saves a snapshot through a follower, removes
// a peer, and restores the file onto a new one-server cluster, which then
// serves the same databases, migrations and users, and accepts the saved
// cluster's tokens.
func TestOperatorRaftAndSnapshot(t *testing.T) {
	ctx := context.Background()
	servers := testbed.StartCluster(t, bins, 3)
	tok := bootstrapToken(t, servers)
	leader := leaderOf(t, servers, tok)
	f := followers(servers, leader)
	cl := wire.New(f[0].URL(), tok)

	if _, err := cl.TransferLeadership(ctx, f[1].ID); err != nil {
		t.Fatalf("transfer leadership to %s: %v", f[1].ID, err)
	}
	if now := leaderOf(t, servers, tok); now.ID != f[1].ID {
		t.Fatalf("after the transfer %s leads, want %s", now.ID, f[1].ID)
	}

	a := newAPI(t, f[0], tok, nil)
	a.must(http.StatusCreated, "POST", "/api/v1/agents", map[string]string{"name": "host1"})
	a.must(http.StatusCreated, "POST", "/api/v1/databases", map[string]any{
		"name": "orders", "type": "PostgreSQL", "environment": "QA",
		"instances": []map[string]string{{"agent": "host1", "instanceId": "main", "role": "Master"}},
	})
	mig, err := cl.CreateMigration(ctx, domain.MigrationSpec{Name: "add_email", TargetDatabaseID: "orders",
		MigrationScript: "ALTER TABLE users ADD COLUMN email text;", RollbackScript: "ALTER TABLE users DROP COLUMN email;"})
	if err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	if _, err := cl.SaveSnapshot(ctx, &file); err != nil {
		t.Fatalf("save through a follower: %v", err)
	}

	// A peer removed from the configuration is no longer listed.
	if err := wire.New(f[1].URL(), tok).RemoveServer(ctx, leader.ID); err != nil {
		t.Fatalf("remove peer %s: %v", leader.ID, err)
	}
	eventually(t, 10*time.Second, "the removed peer to leave the configuration", func() bool {
		return len(clusterStatus(t, f[1], tok).Servers) == 2
	})

	fresh := testbed.StartServer(t, bins, testbed.ServerOptions{ID: "r1"})
	freshTok := token(t, fresh)
	restorer := wire.New(fresh.URL(), freshTok)
	eventually(t, 10*time.Second, "the new server to lead", func() bool {
		st, err := restorer.ClusterStatus(ctx)
		return err == nil && st.Leader != ""
	})
	res, err := restorer.RestoreSnapshot(ctx, bytes.NewReader(file.Bytes()))
	if err != nil {
		t.Fatalf("restore onto a new cluster: %v", err)
	}
	if res.Restored.Migrations != 1 || res.Restored.Databases != 1 {
		t.Errorf("restore answered %+v, want one migration and one database", res.Restored)
	}
	restored := wire.New(fresh.URL(), tok) // the saved cluster's token now
	got, err := restored.GetMigration(ctx, mig.MigrationID)
	if err != nil || got.MigrationScript != mig.MigrationScript {
		t.Fatalf("the restored cluster's migration = %+v, %v; want %s as saved", got, err, mig.MigrationID)
	}
	st, err := restored.ClusterStatus(ctx)
	if err != nil || len(st.Servers) != 1 || st.Servers[0].ID != "r1" || st.Servers[0].HTTPAddr == "" {
		t.Errorf("the restored cluster = %+v, %v; want its own one server r1, with its address", st, err)
	}
	if v, err := restored.VerifyAudit(ctx); err != nil || !v.Valid {
		t.Errorf("audit chain after the restore = %+v, %v; want valid", v, err)
	}
}
