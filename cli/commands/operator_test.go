package commands

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOperatorCommands saves a snapshot with the CLI, checks the file's
// mode, restores it, and tries the bad inputs: a missing file, a damaged
// one (refused before anything is sent), a transfer with no other voter.
func TestOperatorCommands(t *testing.T) {
	registerDatabase(t, "op-host", "op_db")
	path := filepath.Join(t.TempDir(), "cluster.snap")
	out := mustHS(t, "operator", "snapshot", "save", path)
	wantContains(t, "save", out, "Saved the state at Raft index")
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("snapshot file %v (%v), want mode 0600: it holds password hashes", info, err)
	}
	wantContains(t, "inspect", mustHS(t, "operator", "snapshot", "inspect", path), "(verified)")
	out = mustHS(t, "operator", "snapshot", "restore", path)
	wantContains(t, "restore", out, "Restored the state at Raft index")
	mustHS(t, "database", "show", "op_db")

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	damaged := filepath.Join(t.TempDir(), "damaged.snap")
	if err := os.WriteFile(damaged, raw[:len(raw)-5], 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"operator", "snapshot", "restore", filepath.Join(t.TempDir(), "none.snap")}, "no such file"},
		{[]string{"operator", "snapshot", "restore", damaged}, "truncated"},
		{[]string{"operator", "snapshot", "inspect", damaged}, "truncated"},
		{[]string{"operator", "raft", "transfer-leader"}, "no other voter"},
		{[]string{"operator", "raft", "transfer-leader", "--to", "nosuch"}, "no server nosuch"},
	} {
		r := hs(t, c.args...)
		if r.code == ExitOK || !strings.Contains(r.stderr, c.want) {
			t.Errorf("hotswap %s: exit %d, stderr %q; want a failure saying %q", strings.Join(c.args, " "), r.code, r.stderr, c.want)
		}
	}
}
