package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	wire "github.com/hotswap-db/hotswap/internal/api"
)

// TestValidateLive validates migrations against the real catalog of the
// master, read by its agent: the same index build is a warning on a table
// of 300,000 rows and not on one of 10; a missing table, a taken name and a
// duplicate index are reported; with the agent gone, the static lint
// answers and says why.
func TestValidateLive(t *testing.T) {
	b := newBed(t)
	b.exec("CREATE TABLE big (id bigint PRIMARY KEY, email text)",
		"INSERT INTO big SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 300000) g",
		"CREATE INDEX big_email ON big (email)",
		"CREATE TABLE small (id bigint PRIMARY KEY, email text)",
		"INSERT INTO small SELECT g, 'user' || g FROM generate_series(1, 10) g",
		"ANALYZE big", "ANALYZE small")

	bigMig := b.migration("index_big", "CREATE INDEX big_email_lower ON big (lower(email));", "DROP INDEX CONCURRENTLY IF EXISTS big_email_lower;")
	smallMig := b.migration("index_small", "CREATE INDEX small_email ON small (email);", "DROP INDEX CONCURRENTLY IF EXISTS small_email;")
	badMig := b.migration("bad_objects", "ALTER TABLE nosuch ADD COLUMN x int;\nCREATE TABLE small (id int);\n"+
		"CREATE INDEX CONCURRENTLY big_email_again ON big (email);", "SELECT 1;")

	big := b.validate(bigMig)
	if !big.Live || big.Instance != "pg-host/main" {
		t.Fatalf("validation of the big table = %+v, want live from pg-host/main", big)
	}
	if w := issues(big.Warnings, "require-concurrent-index-creation"); len(w) != 1 || !strings.Contains(w[0].Recommendation, "CONCURRENTLY") {
		t.Errorf("big table warnings = %+v, want the index build with its CONCURRENTLY rewrite", big.Warnings)
	}
	if big.ComputedRisk != "Medium" || big.EstimatedDuration < 1 || big.RequiredDiskBytes <= 0 || big.FreeDiskBytes <= 0 {
		t.Errorf("big: risk %s, %ds, disk %d of %d; want Medium with an estimate and disk figures",
			big.ComputedRisk, big.EstimatedDuration, big.RequiredDiskBytes, big.FreeDiskBytes)
	}
	if !contains(big.DependencyCheck.AffectedObjects, "table big (about 300000 rows") ||
		!contains(big.DependencyCheck.AffectedObjects, "index big_email_lower (new)") {
		t.Errorf("affected = %q, want big with its row count and the new index", big.DependencyCheck.AffectedObjects)
	}

	small := b.validate(smallMig)
	if !small.Live || len(small.Warnings) != 0 || !small.IsValid || small.ComputedRisk != "Low" {
		t.Errorf("validation of the small table = %+v, want live, no warning, valid, Low: 10 rows build in no time", small)
	}

	bad := b.validate(badMig)
	if bad.IsValid || len(issues(bad.Errors, "missing-table")) != 1 || len(issues(bad.Errors, "name-exists")) != 1 ||
		len(issues(bad.Warnings, "duplicate-index")) != 1 {
		t.Errorf("validation of bad objects = errors %+v warnings %+v; want nosuch missing, small taken, big_email duplicated",
			bad.Errors, bad.Warnings)
	}

	b.agent.Kill()
	eventually(t, 20*time.Second, "the agent to be seen gone", func() bool {
		v, ok := b.api.agent("pg-host")
		return ok && !v.Connected
	})
	static := b.validate(smallMig)
	if static.Live || !strings.Contains(static.LiveReason, "not connected") || len(issues(static.Warnings, "require-concurrent-index-creation")) != 1 {
		t.Errorf("validation without the agent = %+v, want static (saying why), the build a warning again", static)
	}
}

func (b *bed) validate(migID string) wire.ValidateResponse {
	b.t.Helper()
	var r wire.ValidateResponse
	b.api.must(http.StatusOK, "POST", "/api/v1/migrations/"+migID+"/validate", map[string]bool{"dryRun": true}).decode(b.t, &r)
	return r
}

func issues(list []wire.ValidationIssue, rule string) []wire.ValidationIssue {
	var out []wire.ValidationIssue
	for _, i := range list {
		if i.Rule == rule {
			out = append(out, i)
		}
	}
	return out
}

func contains(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}
