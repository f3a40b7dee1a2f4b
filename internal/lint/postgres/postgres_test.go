package postgres_test

import (
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/lint"
	"github.com/hotswap-db/hotswap/internal/lint/postgres"
)

type catalog map[string]lint.TableInfo

func (c catalog) Table(schema, name string) (lint.TableInfo, bool) {
	t, ok := c[name]
	return t, ok
}

func TestPositionsAndIgnores(t *testing.T) {
	t.Parallel()
	script := "SELECT 1;\n\n  -- hotswap:ignore ban-drop-table replaced by v2 tables\n  DROP TABLE old_orders;\nCREATE INDEX i ON orders (a);"
	r, err := postgres.Lint(script, lint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Ignored) != 1 || r.Ignored[0].Rule != "ban-drop-table" || r.Ignored[0].IgnoreReason != "replaced by v2 tables" || r.Ignored[0].Line != 4 || r.Ignored[0].Column != 3 {
		t.Errorf("ignored = %+v", r.Ignored)
	}
	if len(r.Findings) != 1 || r.Findings[0].Line != 5 || r.Findings[0].Column != 1 || r.Findings[0].Statement != 3 {
		t.Errorf("findings = %+v", r.Findings)
	}
	if r.Risk != "High" {
		t.Errorf("risk = %s, want High (the ignored drop still counts)", r.Risk)
	}
}

func TestCatalogRerank(t *testing.T) {
	t.Parallel()
	script := "CREATE INDEX i ON small (a);\nCREATE INDEX j ON big (a);\nALTER TABLE big ALTER COLUMN note TYPE varchar(10);"
	cat := catalog{"small": {Rows: 12, Bytes: 16384}, "big": {Rows: 50_000_000, Bytes: 50 << 30, Columns: map[string]string{"note": "character varying(100)"}}}
	r, err := postgres.Lint(script, lint.Options{Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	sev := map[int]lint.Severity{}
	rules := map[int]string{}
	for _, f := range r.Findings {
		sev[f.Statement], rules[f.Statement] = f.Severity, f.Rule
	}
	if sev[1] != lint.Info || sev[2] != lint.Warning {
		t.Errorf("severities = %v, want the small table's build an advisory and the big one's a warning", sev)
	}
	if rules[3] != "changing-column-type" {
		t.Errorf("shrinking varchar(100) to varchar(10), known from the catalog: %v", rules)
	}
	wide, _ := postgres.Lint("ALTER TABLE big ALTER COLUMN note TYPE varchar(200);", lint.Options{Catalog: cat})
	if wide.Flagged() || len(wide.Findings) != 0 {
		t.Errorf("widening known from the catalog: %+v", wide.Findings)
	}
}

func TestTargetVersion(t *testing.T) {
	t.Parallel()
	script := "ALTER TABLE t ADD COLUMN c text DEFAULT 'x';"
	for v, want := range map[string]bool{"10": true, "11": false, "15.4": false} {
		tg, _ := lint.ParseTarget(v)
		r, err := postgres.Lint(script, lint.Options{Target: tg})
		if err != nil || r.Flagged() != want {
			t.Errorf("PostgreSQL %s: flagged=%v err=%v, want %v", v, r.Flagged(), err, want)
		}
	}
	if _, err := postgres.Lint("ALTER TABLE;", lint.Options{}); err == nil {
		t.Errorf("a script that does not parse gave no error")
	}
}

// TestTypeNamesInMessages checks that a type with a modifier is named whole
// in a finding's message: "varchar(512)", not "varchar(512".
func TestTypeNamesInMessages(t *testing.T) {
	t.Parallel()
	r, err := postgres.Lint("ALTER TABLE sessions ALTER COLUMN token TYPE varchar(512);", lint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 1 || !strings.Contains(r.Findings[0].Message, "to varchar(512) is") {
		t.Errorf("findings = %+v, want one naming varchar(512)", r.Findings)
	}
}
