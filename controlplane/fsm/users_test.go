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
