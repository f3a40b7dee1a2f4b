package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// TestMariaDBAgentKilledMidStep: a two-statement step whose first
// statement (CREATE TABLE, which fails if run again) is done and whose
// second waits for a long transaction outside the lock queue; the agent is
// killed -9 there and restarted, the transaction ends, and the re-delivered
// step resumes after the statement already done: the execution succeeds,
// with one history row and both changes in the catalog.
func TestMariaDBAgentKilledMidStep(t *testing.T) {
	m := newMariaBed(t)
	holder, err := mariaDB(t, m.primary).Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	for _, s := range []string{"BEGIN", "SELECT count(*) FROM items"} {
		if _, err := holder.ExecContext(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
	mig := m.migration("audit", "Direct", "CREATE TABLE audit_log (id int PRIMARY KEY); ALTER TABLE items ADD COLUMN flag int",
		"ALTER TABLE items DROP COLUMN flag; DROP TABLE audit_log")
	exec := m.b.execute(mig, map[string]any{"environment": "Production", "timeoutSeconds": 120})
	db := mariaDB(t, m.primary)
	// Kill once statement 1 has made its table, recorded done or not: a
	// kill between a statement's end and its record leaves the statement
	// started (step_intent) with its effect there, which the re-delivery
	// counts as done.
	eventually(t, 30*time.Second, "the first statement's table", func() bool {
		var n int
		_ = db.QueryRowContext(t.Context(), "SELECT count(*) FROM information_schema.TABLES WHERE TABLE_NAME = 'audit_log'").Scan(&n)
		return n == 1
	})
	m.b.agent.Kill()
	if hasColumn(t, m.primary, "items", "flag") {
		t.Fatal("the second statement ran while the transaction held the table")
	}
	if err := m.b.agent.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the agent to reconnect", func() bool {
		v, ok := m.b.api.agent("maria-host")
		return ok && v.Connected
	})
	if _, err := holder.ExecContext(t.Context(), "COMMIT"); err != nil {
		t.Fatal(err)
	}
	e := m.b.waitTerminal(mig, exec, 90*time.Second)
	if e.Status != domain.ExecutionSucceeded || !hasColumn(t, m.primary, "items", "flag") {
		t.Fatalf("execution = %s, column %v; want Succeeded with the column\n%s", e.Status, hasColumn(t, m.primary, "items", "flag"), logText(e))
	}
	if logs := logText(e); !strings.Contains(logs, "statement 1 already done by an earlier delivery") &&
		!strings.Contains(logs, "statement 1 was started by an earlier delivery") {
		t.Errorf("the re-delivered step did not resume after statement 1:\n%s", logText(e))
	}
	var rows, done int
	if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM hotswap.schema_history WHERE execution_id = ?", exec).Scan(&rows); err != nil || rows != 1 {
		t.Errorf("history rows = %d, %v; want 1", rows, err)
	}
	if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM hotswap.step_progress WHERE execution_id = ?", exec).Scan(&done); err != nil {
		t.Error(err)
	}
	t.Logf("step_progress rows %d\n%s", done, logText(e))
}
