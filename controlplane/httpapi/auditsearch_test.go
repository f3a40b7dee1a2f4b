package httpapi_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// TestAuditSearch finds entries by user, type, migration, database and time
// on GET /api/v1/audit-log, pages them, and answers the same on the earlier
// path /api/v1/audit.
func TestAuditSearch(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	f := h.addDatabase(t)
	m := h.addMigration(t, f, "mine")
	ex, err := h.client.ExecuteMigration(ctx, m.MigrationID, api.ExecuteRequest{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	dev := h.loginAs(t, "devon", domain.RoleDeveloper)
	other, err := dev.CreateMigration(ctx, domain.MigrationSpec{Name: "theirs", TargetDatabaseID: f.db.DatabaseID,
		MigrationScript: "ALTER TABLE t ADD COLUMN x int;", RollbackScript: "ALTER TABLE t DROP COLUMN x;"})
	if err != nil {
		t.Fatal(err)
	}
	targets := func(l api.AuditList) map[string]bool {
		seen := map[string]bool{}
		for _, e := range l.Entries {
			seen[e.Target] = true
		}
		return seen
	}
	search := func(q api.AuditQuery) api.AuditList {
		t.Helper()
		l, err := h.client.ListAudit(ctx, q)
		if err != nil {
			t.Fatalf("ListAudit(%+v) error = %v", q, err)
		}
		return l
	}

	byMig := search(api.AuditQuery{Migration: m.MigrationID})
	if s := targets(byMig); !s[m.MigrationID] || !s[ex.ExecutionID] || s[other.MigrationID] || s[f.db.DatabaseID] {
		t.Errorf("migration=%s finds %v, want it and its execution only", m.MigrationID, s)
	}
	byDB := search(api.AuditQuery{Database: "app", Limit: 1000}) // by name
	if s := targets(byDB); !s[f.db.DatabaseID] || !s[m.MigrationID] || !s[ex.ExecutionID] || !s[other.MigrationID] || s["devon"] {
		t.Errorf("database=app finds %v, want the database, both migrations and the execution, not the user", s)
	}
	if l := search(api.AuditQuery{Database: "app", Migration: other.MigrationID}); l.Total != 1 || l.Entries[0].Actor != "devon" {
		t.Errorf("database and migration together = %+v, want the one entry about %s", l, other.MigrationID)
	}
	if l := search(api.AuditQuery{Database: "app", Migration: "mig-elsewhere"}); l.Total != 0 {
		t.Errorf("a migration not on the database = %d entries, want none", l.Total)
	}
	if l := search(api.AuditQuery{User: "devon", Type: "create_migration"}); l.Total != 1 || l.Entries[0].Target != other.MigrationID {
		t.Errorf("user=devon type=create_migration = %+v, want devon's one migration", l)
	}
	all := search(api.AuditQuery{Limit: 1000})
	mid := all.Entries[len(all.Entries)/2].At
	if l := search(api.AuditQuery{Since: mid.Add(-time.Second), Until: mid.Add(time.Second), Limit: 1000}); l.Total == 0 || l.Total >= all.Total {
		t.Errorf("a two-second window finds %d of %d entries, want some, not all", l.Total, all.Total)
	}
	page := search(api.AuditQuery{Limit: 2, Offset: 1})
	if page.Total != all.Total || len(page.Entries) != 2 || page.Entries[0].Seq != all.Entries[1].Seq {
		t.Errorf("limit=2 offset=1 = %v of %d, want entries 2 and 3 of %d", page.Entries, page.Total, all.Total)
	}

	// The earlier path and parameter names still answer, behind the same rule.
	now := h.do(t, "GET", "/api/v1/audit-log?type=create_migration", adminToken, "")
	old := h.do(t, "GET", "/api/v1/audit?action=create_migration", adminToken, "")
	if now.status != http.StatusOK || old.status != http.StatusOK || !bytes.Equal(now.body, old.body) {
		t.Errorf("/api/v1/audit = %d %s, want what /api/v1/audit-log answers: %d %s", old.status, old.body, now.status, now.body)
	}
	viewer := h.loginToken(t, "vic", domain.RoleViewer)
	if got := h.do(t, "GET", "/api/v1/audit/export", viewer, ""); got.status != http.StatusForbidden {
		t.Errorf("a Viewer on the earlier export path = %d, want 403", got.status)
	}
	if got := h.do(t, "GET", "/api/v1/audit-log?since=yesterday", adminToken, ""); got.status != http.StatusBadRequest {
		t.Errorf("since=yesterday = %d, want 400", got.status)
	}
}

// writeCounter is a ResponseWriter that keeps the size of each write.
type writeCounter struct {
	httptest.ResponseRecorder
	writes []int
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.writes = append(w.writes, len(p))
	return w.ResponseRecorder.Write(p)
}

// TestAuditExportStreamsManyEntries exports a long log as JSON lines and as
// CSV: every entry is there once, in order, well-formed, its chain intact;
// and the answer leaves in many small writes, not as one body built first.
func TestAuditExportStreamsManyEntries(t *testing.T) {
	h := newHarness(t)
	const n = 5000
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		c, err := fsm.Audited(fsm.RecordLoginRequest{Username: "ann"}, "ann", "DBA", "10.0.0.7", at.Add(time.Duration(i)*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		h.raft.must(t, c)
	}
	total := len(h.raft.State().AuditLog(fsm.AuditFilter{}))

	t.Run("jsonl", func(t *testing.T) {
		body, maxWrite := exportRaw(t, h, "jsonl")
		var entries []domain.AuditEntry
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		for {
			var e domain.AuditEntry
			if err := dec.Decode(&e); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("line %d is not an audit entry: %v", len(entries)+1, err)
			}
			entries = append(entries, e)
		}
		checkExported(t, entries, total)
		if maxWrite > 4096 {
			t.Errorf("largest write %d bytes: the export was built in memory, not streamed", maxWrite)
		}
	})
	t.Run("csv", func(t *testing.T) {
		body, maxWrite := exportRaw(t, h, "csv")
		rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil || len(rows) == 0 || rows[0][0] != "seq" || rows[0][10] != "hash" {
			t.Fatalf("CSV export: %d rows, %v; want a header seq..hash", len(rows), err)
		}
		entries := make([]domain.AuditEntry, 0, len(rows)-1)
		for _, r := range rows[1:] {
			seq, _ := strconv.ParseUint(r[0], 10, 64)
			idx, _ := strconv.ParseUint(r[1], 10, 64)
			when, err := time.Parse(time.RFC3339Nano, r[2])
			if err != nil {
				t.Fatalf("row %v: at = %v", r, err)
			}
			entries = append(entries, domain.AuditEntry{Seq: seq, Index: idx, At: when, Actor: r[3], Role: r[4], From: r[5],
				Action: r[6], Target: r[7], Outcome: r[8], PrevHash: r[9], Hash: r[10]})
		}
		checkExported(t, entries, total)
		if maxWrite > 64<<10 {
			t.Errorf("largest write %d bytes: the export was built in memory, not streamed", maxWrite)
		}
	})
}

// exportRaw serves one export straight from the API's handler and returns
// the body and the largest single write.
func exportRaw(t *testing.T, h *harness, format string) ([]byte, int) {
	t.Helper()
	req := httptest.NewRequest("GET", "/api/v1/audit-log/export?format="+format, nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	w := &writeCounter{ResponseRecorder: *httptest.NewRecorder()}
	h.handler.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		t.Fatalf("export %s = %d %s", format, w.Code, w.Body)
	}
	biggest := 0
	for _, n := range w.writes {
		biggest = max(biggest, n)
	}
	if len(w.writes) < 100 {
		t.Errorf("export %s in %d writes of %d bytes, want it streamed in many", format, len(w.writes), w.Body.Len())
	}
	return w.Body.Bytes(), biggest
}

// checkExported: want entries, numbered from 1 without a gap, chained.
func checkExported(t *testing.T, entries []domain.AuditEntry, want int) {
	t.Helper()
	if len(entries) != want {
		t.Fatalf("exported %d entries, want %d", len(entries), want)
	}
	for i, e := range entries {
		if e.Seq != uint64(i+1) {
			t.Fatalf("entry %d has seq %d: one is missing or repeated", i+1, e.Seq)
		}
	}
	if at, ok := domain.VerifyAuditChain(entries, ""); !ok {
		t.Errorf("the exported chain breaks at entry %d", at)
	}
}
