package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// TestPartialFailureRollsBackToBefore fails a step half way (the column is
// added, the unique index fails on a duplicate key): the automatic
// rollback skips the DROP INDEX of the index never built, drops the
// column, and the execution ends RolledBack with the table as before.
func TestPartialFailureRollsBackToBefore(t *testing.T) {
	b := newBed(t)
	mig := b.migration("add_nick2",
		"ALTER TABLE accounts ADD COLUMN nick2 text DEFAULT 'x'; CREATE UNIQUE INDEX CONCURRENTLY accounts_nick2 ON accounts (nick2);",
		"DROP INDEX CONCURRENTLY accounts_nick2; ALTER TABLE accounts DROP COLUMN nick2;")
	exec := b.execute(mig, map[string]any{"monitoring": map[string]any{"monitorWindowSeconds": -1}})
	e := b.waitTerminal(mig, exec, 60*time.Second)
	logs := logText(e)
	if e.Status != domain.ExecutionRolledBack {
		t.Fatalf("status = %s, want RolledBack\n%s", e.Status, logs)
	}
	if b.hasColumn("accounts", "nick2") || b.query("SELECT to_regclass('accounts_nick2') IS NOT NULL").(bool) {
		t.Errorf("the rollback left nick2 or accounts_nick2 behind\n%s", logs)
	}
	for _, want := range []string{"skipping rollback statement 1", "catalog checked: what the forward step created is gone"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log does not say %q:\n%s", want, logs)
		}
	}
}
