package e2e

import (
	"net/http"
	"strings"
	"testing"
)

// TestValidateLiveMariaDB validates MySQL migrations against the real
// catalog of a MariaDB master, read by its agent: the same unbatched
// UPDATE is a warning on a table of 50,000 rows and an advisory on one of
// 10; the live column type makes a VARCHAR widening exact (past 255 bytes
// it copies the table); a missing table (names tell case apart), a taken
// table name, a taken index name and a duplicate index come from the
// catalog.
func TestValidateLiveMariaDB(t *testing.T) {
	m := newMariaBed(t)
	m.exec(t, "CREATE TABLE big (id int PRIMARY KEY, email varchar(40), note varchar(20), KEY big_email (email))",
		"INSERT INTO big SELECT seq, CONCAT('user', seq, '@example.com'), NULL FROM seq_1_to_50000",
		"CREATE TABLE small (id int PRIMARY KEY, email varchar(40), note varchar(20))",
		"INSERT INTO small SELECT seq, CONCAT('user', seq), NULL FROM seq_1_to_10")
	mig := func(name, up string) string {
		var r struct{ MigrationID string }
		m.b.api.must(http.StatusCreated, "POST", "/api/v1/migrations", map[string]any{"name": name, "targetDatabaseId": "shop",
			"strategy": "Direct", "migrationScript": up, "rollbackScript": "SELECT 1;"}).decode(t, &r)
		return r.MigrationID
	}

	big := m.b.validate(mig("backfill_big", "UPDATE big SET note = 'x' WHERE note IS NULL;"))
	if !big.Live || big.Instance != "maria-host/primary" {
		t.Fatalf("validation of the big table = %+v, want live from maria-host/primary", big)
	}
	if w := issues(big.Warnings, "unbatched-dml"); len(w) != 1 || !strings.Contains(w[0].Recommendation, "LIMIT") {
		t.Errorf("big table warnings = %+v, want the unbatched UPDATE with its batched rewrite", big.Warnings)
	}
	if big.ComputedRisk != "Medium" || big.EstimatedDuration < 1 || big.FreeDiskBytes <= 0 {
		t.Errorf("big: risk %s, %ds, free disk %d; want Medium with an estimate and the data directory's free space",
			big.ComputedRisk, big.EstimatedDuration, big.FreeDiskBytes)
	}
	if !contains(big.DependencyCheck.AffectedObjects, "table big (about 50000 rows") {
		t.Errorf("affected = %q, want big with its exact row count", big.DependencyCheck.AffectedObjects)
	}

	small := m.b.validate(mig("backfill_small", "UPDATE small SET note = 'x' WHERE note IS NULL;"))
	if !small.Live || len(small.Warnings) != 0 || !small.IsValid || small.ComputedRisk != "Low" {
		t.Errorf("validation of the small table = %+v, want live, no warning, valid, Low: 10 rows update at once", small)
	}

	widen := m.b.validate(mig("widen_email", "ALTER TABLE big MODIFY email varchar(100);"))
	if w := issues(widen.Warnings, "mysql-column-type-change"); len(w) != 1 || !strings.Contains(w[0].Message, "varchar(40) to varchar(100)") ||
		widen.ComputedRisk != "High" {
		t.Errorf("widening varchar(40) to varchar(100) = risk %s, warnings %+v; want High with a copy: utf8mb4 needs a second length byte",
			widen.ComputedRisk, widen.Warnings)
	}

	bad := m.b.validate(mig("bad_objects", "ALTER TABLE nosuch ADD COLUMN x int;\nALTER TABLE Big ADD COLUMN y int;\n"+
		"CREATE TABLE small (id int);\nALTER TABLE big ADD INDEX big_email_again (email), ALGORITHM=INPLACE, LOCK=NONE;\n"+
		"CREATE INDEX big_email ON big (note) ALGORITHM=INPLACE LOCK=NONE;\nCREATE INDEX big_email ON small (note) ALGORITHM=INPLACE LOCK=NONE;"))
	if bad.IsValid || len(issues(bad.Errors, "missing-table")) != 2 || len(issues(bad.Errors, "name-exists")) != 2 ||
		len(issues(bad.Warnings, "duplicate-index")) != 1 {
		t.Errorf("validation of bad objects = errors %+v warnings %+v; want nosuch and Big missing, small and big.big_email taken "+
			"(not small.big_email), big_email duplicated", bad.Errors, bad.Warnings)
	}
}
