package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/api"
)

// TestAuditArchive drops the entries an archive holds once they are past
// the retention period; the chain still verifies from the kept hash, and
// bad requests change nothing.
func TestAuditArchive(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	f := h.addDatabase(t)
	h.addMigration(t, f, "first")
	all := h.raft.State().AuditLog(fsm.AuditFilter{})
	cut := all[len(all)-1]
	if _, err := h.client.ArchiveAudit(ctx, api.ArchiveAuditRequest{ThroughSeq: cut.Seq, LastHash: cut.Hash}); status(err) != http.StatusConflict {
		t.Fatalf("archiving entries within the retention period = %v, want 409", err)
	}
	h.skew.Store(int64(366 * 24 * time.Hour))
	h.addMigration(t, f, "second") // a year later: kept
	for _, bad := range []api.ArchiveAuditRequest{{ThroughSeq: cut.Seq, LastHash: all[0].Hash},
		{ThroughSeq: 1 << 40, LastHash: cut.Hash}, {ThroughSeq: 0, LastHash: cut.Hash}} {
		before := len(h.raft.State().AuditLog(fsm.AuditFilter{}))
		if _, err := h.client.ArchiveAudit(ctx, bad); status(err) != http.StatusConflict && status(err) != http.StatusBadRequest {
			t.Errorf("archive %+v = %v, want refused", bad, err)
		}
		// A refused command is itself audited: one entry more, nothing dropped.
		if after := len(h.raft.State().AuditLog(fsm.AuditFilter{})); after < before {
			t.Errorf("archive %+v dropped entries", bad)
		}
	}
	res, err := h.client.ArchiveAudit(ctx, api.ArchiveAuditRequest{ThroughSeq: cut.Seq, LastHash: cut.Hash})
	if err != nil || res.ArchivedThrough != cut.Seq {
		t.Fatalf("archive = %+v, %v; want through %d", res, err, cut.Seq)
	}
	kept := h.raft.State().AuditLog(fsm.AuditFilter{})
	if len(kept) == 0 || kept[0].Seq != cut.Seq+1 || kept[0].PrevHash != cut.Hash {
		t.Fatalf("kept entries start at %+v, want seq %d linked to the archived hash", kept[0], cut.Seq+1)
	}
	v, err := h.client.VerifyAudit(ctx)
	if err != nil || !v.Valid || v.ArchivedThrough != cut.Seq {
		t.Errorf("verify after the archive = %+v, %v; want valid from entry %d", v, err, cut.Seq)
	}
}

// TestMigrationAuditLog lists what happened to one migration and its
// executions, and nothing about another.
func TestMigrationAuditLog(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	f := h.addDatabase(t)
	m := h.addMigration(t, f, "mine")
	other := h.addMigration(t, f, "other")
	ex, err := h.client.ExecuteMigration(ctx, m.MigrationID, api.ExecuteRequest{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	l, err := h.client.MigrationAudit(ctx, m.MigrationID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range l.Entries {
		seen[e.Target] = true
		if e.Target == other.MigrationID {
			t.Errorf("the audit of %s lists %+v, about another migration", m.MigrationID, e)
		}
	}
	if !seen[m.MigrationID] || !seen[ex.ExecutionID] {
		t.Errorf("the audit of %s = %+v, want its creation and its execution %s", m.MigrationID, l.Entries, ex.ExecutionID)
	}
	if _, err := h.client.MigrationAudit(ctx, "mig-nosuch", 0, 0); status(err) != http.StatusNotFound {
		t.Errorf("the audit of an unknown migration = %v, want 404", err)
	}
}
