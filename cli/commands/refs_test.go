package commands

import (
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// TestShortReferences names migrations and executions as a DBA types
// them: by name or a short id, the execution without its migration.
func TestShortReferences(t *testing.T) {
	registerDatabase(t, "ref-host", "ref_db")
	registerDatabase(t, "ref-host2", "ref_db2")
	m := createMigration(t, "ref_db", "add_ref_table", "CREATE TABLE ref_t (id int);")
	createMigration(t, "ref_db2", "add_ref_table", "CREATE TABLE ref_t (id int);")
	only := createMigration(t, "ref_db", "only_here", "CREATE TABLE ref_u (id int);")
	r := decode[api.ExecuteResponse](t, mustHS(t, "-o", "json", "migration", "execute", m.MigrationID))
	short := strings.TrimPrefix(r.ExecutionID, "exec-")[:8]

	for _, args := range [][]string{{short}, {r.ExecutionID}, {"exec-" + short}, {m.MigrationID, short}} {
		e := decode[domain.Execution](t, mustHS(t, append([]string{"-o", "json", "execution", "show"}, args...)...))
		if e.ExecutionID != r.ExecutionID || e.MigrationID != m.MigrationID {
			t.Errorf("execution show %v = %s of %s, want %s of %s", args, e.ExecutionID, e.MigrationID, r.ExecutionID, m.MigrationID)
		}
	}
	wantContains(t, "execution show SHORT", mustHS(t, "execution", "show", short), "ID:", r.ExecutionID)
	shortMig := strings.TrimPrefix(only.MigrationID, "mig-")[:8]
	for _, ref := range []string{"only_here", shortMig, only.MigrationID} {
		got := decode[domain.Migration](t, mustHS(t, "-o", "json", "migration", "show", ref))
		if got.MigrationID != only.MigrationID {
			t.Errorf("migration show %s = %s, want %s", ref, got.MigrationID, only.MigrationID)
		}
	}
	if l := decode[api.ExecutionList](t, mustHS(t, "-o", "json", "execution", "list", strings.TrimPrefix(m.MigrationID, "mig-")[:8])); l.Total != 1 {
		t.Errorf("execution list by short id: %d executions, want 1", l.Total)
	}

	amb := hs(t, "migration", "show", "add_ref_table")
	if amb.code != ExitError {
		t.Fatalf("migration show of a name two databases use: exit %d, want %d", amb.code, ExitError)
	}
	wantContains(t, "ambiguous name", amb.stderr, "names 2 migrations", m.MigrationID)
	for _, ref := range []string{"ffffffff", "abc"} {
		none := hs(t, "execution", "show", ref)
		if none.code != ExitError || !strings.Contains(none.stderr, "not found") {
			t.Errorf("execution show %s: exit %d, stderr %q; want %d and not found", ref, none.code, none.stderr, ExitError)
		}
	}
	// Paused or refused (no agent runs it), the answer names the execution the short id found.
	rb := hs(t, "execution", "pause", short, "--reason", "look first")
	if !strings.Contains(rb.stderr+rb.stdout, "xecution "+r.ExecutionID+" is ") {
		t.Errorf("execution pause SHORT: exit %d, stderr %q; want the refusal to name %s", rb.code, rb.stderr, r.ExecutionID)
	}
}
