package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	wire "github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// TestHandMadeAlterIsDrift applies a migration, then alters the table by
// hand: the history endpoint names the column added out of band and the
// index dropped, and is in sync again once they are put back.
func TestHandMadeAlterIsDrift(t *testing.T) {
	b := newBed(t)
	mig := b.migration("add_email", "ALTER TABLE accounts ADD COLUMN email text; CREATE INDEX accounts_email ON accounts (email);",
		"DROP INDEX accounts_email; ALTER TABLE accounts DROP COLUMN email;")
	if e := b.waitTerminal(mig, b.execute(mig, map[string]any{"monitoring": map[string]any{"monitorWindowSeconds": -1}}),
		60*time.Second); e.Status != domain.ExecutionSucceeded {
		t.Fatalf("execution: %s\n%s", e.Status, logText(e))
	}
	history := func() wire.DatabaseHistory {
		var h wire.DatabaseHistory
		b.api.must(http.StatusOK, "GET", "/api/v1/databases/app/history", nil).decode(t, &h)
		return h
	}
	if h := history(); !h.InSync {
		t.Fatalf("drift right after the migration: %+v", h.Drift)
	}
	b.exec("ALTER TABLE accounts ADD COLUMN nickname text", "DROP INDEX accounts_email")
	h := history()
	var msgs []string
	for _, d := range h.Drift {
		if d.Kind == "schema" {
			msgs = append(msgs, d.Message)
		}
	}
	all := strings.Join(msgs, "\n")
	if h.InSync || !strings.Contains(all, "column nickname text of table accounts was added") ||
		!strings.Contains(all, "index accounts_email") {
		t.Fatalf("drift after a hand-made ALTER = in sync %v:\n%s", h.InSync, all)
	}
	b.exec("ALTER TABLE accounts DROP COLUMN nickname", "CREATE INDEX accounts_email ON accounts (email)")
	if h := history(); !h.InSync {
		t.Errorf("drift once put back: %+v", h.Drift)
	}
}
