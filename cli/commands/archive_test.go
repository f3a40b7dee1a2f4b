package commands

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAuditArchiveRefusals: an existing file is never overwritten, a range
// with no entry archives nothing, and entries the cluster must keep are
// refused by it, leaving no file behind.
func TestAuditArchiveRefusals(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "old.jsonl")
	if err := os.WriteFile(existing, []byte("kept\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := hs(t, "audit", "archive", "--file", existing); r.code != ExitUsage || !strings.Contains(r.stderr, "never overwritten") {
		t.Errorf("archive onto an existing file: exit %d %q, want a usage error", r.code, r.stderr)
	}
	if raw, _ := os.ReadFile(existing); string(raw) != "kept\n" {
		t.Errorf("the existing file was changed: %q", raw)
	}
	none := filepath.Join(dir, "none.jsonl")
	out := mustHS(t, "audit", "archive", "--file", none, "--before", "2001-01-01T00:00:00Z")
	if !strings.Contains(out, "nothing to archive") {
		t.Errorf("archive before 2001 = %q, want nothing to archive", out)
	}
	recent := filepath.Join(dir, "recent.jsonl")
	r := hs(t, "audit", "archive", "--file", recent, "--before", time.Now().UTC().Add(time.Hour).Format(time.RFC3339))
	if r.code != ExitError || !strings.Contains(r.stderr, "retention") {
		t.Errorf("archive of this hour's entries: exit %d %q, want refused for the retention period", r.code, r.stderr)
	}
	if _, err := os.Stat(recent); !os.IsNotExist(err) {
		t.Errorf("a refused archive left %s behind (%v)", recent, err)
	}
	if _, err := os.Stat(none); !os.IsNotExist(err) {
		t.Errorf("an empty archive wrote %s (%v)", none, err)
	}
}
