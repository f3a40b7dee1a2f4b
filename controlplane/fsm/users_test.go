package fsm

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

func TestUsersAndSigningKey(t *testing.T) {
	f := New(nil)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	alice := domain.User{Username: "alice", Role: domain.RoleDBA, CreatedAt: now}
	if err := apply(t, f, 1, CreateUserRequest{User: alice, PasswordHash: "bcrypt-hash"}); err != nil {
		t.Fatalf("create user: %v", err)
	}
	if err := apply(t, f, 2, CreateUserRequest{User: alice}); !errors.Is(err, ErrConflict) {
		t.Errorf("second create error = %v, want conflict", err)
	}
	if err := apply(t, f, 3, SetSigningKeyRequest{Key: []byte("first")}); err != nil {
		t.Fatal(err)
	}
	if err := apply(t, f, 4, SetSigningKeyRequest{Key: []byte("second")}); err != nil {
		t.Fatal(err)
	}
	if got := string(f.State().SigningKey()); got != "first" {
		t.Errorf("signing key = %q, want the first one kept", got)
	}

	g := New(nil)
	if err := g.Restore(io.NopCloser(bytes.NewReader(snapshotBytes(t, f)))); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	u, hash, ok := g.State().User("alice")
	if !ok || u != alice || hash != "bcrypt-hash" {
		t.Errorf("user after restore = %+v %q %v, want %+v", u, hash, ok, alice)
	}
	if got := string(g.State().SigningKey()); got != "first" {
		t.Errorf("signing key after restore = %q", got)
	}

	if err := apply(t, f, 5, DeleteUserRequest{Username: "alice"}); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := f.State().User("alice"); ok {
		t.Error("deleted user still found")
	}
	if err := apply(t, f, 6, DeleteUserRequest{Username: "alice"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete missing user error = %v, want not found", err)
	}
}

func TestApprovalsSurviveSnapshotAndWithdraw(t *testing.T) {
	f := New(nil)
	seed(t, f)
	at := time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)
	if err := apply(t, f, 50, DecideMigrationRequest{Approval: domain.Approval{ApprovalID: "a1", MigrationID: "mig-1",
		Approver: "dba", Decision: domain.Approved, At: at}}); err != nil {
		t.Fatal(err)
	}
	if err := apply(t, f, 51, DecideMigrationRequest{Approval: domain.Approval{ApprovalID: "a2", MigrationID: "nosuch",
		Approver: "dba", Decision: domain.Approved, At: at}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("deciding on a missing migration: error = %v, want not found", err)
	}
	g := New(nil)
	if err := g.Restore(io.NopCloser(bytes.NewReader(snapshotBytes(t, f)))); err != nil {
		t.Fatal(err)
	}
	if got := g.State().Approvals("mig-1"); len(got) != 1 || got[0].ApprovalID != "a1" || !got[0].At.Equal(at) {
		t.Errorf("approvals after restore = %+v", got)
	}
	m, _ := f.State().Migration("mig-1")
	m.MigrationScript = "SELECT 2;"
	if err := apply(t, f, 52, UpdateMigrationRequest{Migration: m}); err != nil {
		t.Fatal(err)
	}
	if got := f.State().Approvals("mig-1"); len(got) != 0 {
		t.Errorf("approvals after the script changed = %+v, want none", got)
	}
}

func TestAuditChainSurvivesSnapshot(t *testing.T) {
	f := New(nil)
	seed(t, f)
	at := time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)
	wrapped, err := Audited(DeleteMigrationRequest{MigrationID: "mig-2"}, "alice", "Admin", "10.0.0.9", at)
	if err != nil {
		t.Fatal(err)
	}
	if err := apply(t, f, 60, wrapped); err != nil {
		t.Fatal(err)
	}
	log := f.State().AuditLog(AuditFilter{})
	last := log[len(log)-1]
	if last.Actor != "alice" || last.Action != "delete_migration" || last.Target != "mig-2" || !last.At.Equal(at) || last.Index != 60 {
		t.Errorf("last entry = %+v", last)
	}
	if _, err := f.State().Migration("mig-2"); err == nil {
		t.Error("the wrapped command was not applied")
	}
	g := New(nil)
	if err := g.Restore(io.NopCloser(bytes.NewReader(snapshotBytes(t, f)))); err != nil {
		t.Fatal(err)
	}
	restored := g.State().AuditLog(AuditFilter{})
	if len(restored) != len(log) {
		t.Fatalf("audit entries after restore = %d, want %d", len(restored), len(log))
	}
	if at, ok := domain.VerifyAuditChain(restored, ""); !ok {
		t.Errorf("the restored chain breaks at %d", at)
	}
}

// TestArchivedAuditSurvivesSnapshot: after an archive the state keeps the
// last archived hash, new entries link to it, and a restored server
// numbers and verifies the same.
func TestArchivedAuditSurvivesSnapshot(t *testing.T) {
	f := New(nil)
	seed(t, f)
	log := f.State().AuditLog(AuditFilter{})
	cut := log[1]
	if err := apply(t, f, 70, ArchiveAuditRequest{ThroughSeq: cut.Seq, LastHash: cut.Hash, Before: cut.At.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	kept := f.State().AuditLog(AuditFilter{})
	if len(kept) != len(log)-1 || kept[0].Seq != cut.Seq+1 { // -2 archived, +1 for the archive's own entry
		t.Fatalf("kept %d entries from seq %d, want %d from %d", len(kept), kept[0].Seq, len(log)-1, cut.Seq+1)
	}
	if last := kept[len(kept)-1]; last.Action != "archive_audit" || last.Seq != uint64(len(log))+1 {
		t.Errorf("the archive's own entry = %+v, want archive_audit numbered %d", last, len(log)+1)
	}
	g := New(nil)
	if err := g.Restore(io.NopCloser(bytes.NewReader(snapshotBytes(t, f)))); err != nil {
		t.Fatal(err)
	}
	through, hash := g.State().AuditAnchor()
	if through != cut.Seq || hash != cut.Hash {
		t.Errorf("restored anchor = %d %s, want %d %s", through, hash, cut.Seq, cut.Hash)
	}
	if at, ok := domain.VerifyAuditChain(g.State().AuditLog(AuditFilter{}), hash); !ok {
		t.Errorf("the restored chain breaks at %d", at)
	}
	if got := g.State().AuditSince(cut.Seq + 1); len(got) != len(kept)-1 || got[0].Seq != cut.Seq+2 {
		t.Errorf("AuditSince(%d) = %d entries from %v, want %d from %d", cut.Seq+1, len(got), got, len(kept)-1, cut.Seq+2)
	}
	if err := apply(t, g, 71, ArchiveAuditRequest{ThroughSeq: cut.Seq + 1, LastHash: kept[0].Hash, Before: kept[0].At}); err == nil {
		t.Error("an entry within the retention period was archived")
	}
}
