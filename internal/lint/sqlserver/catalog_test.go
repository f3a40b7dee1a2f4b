package sqlserver

import (
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/lint"
)

// catalog knows dbo.orders: large, with its columns' types.
type catalog struct{ rows int64 }

func (c catalog) Table(_, name string) (lint.TableInfo, bool) {
	return lint.TableInfo{Rows: c.rows, Bytes: c.rows * 100, Columns: map[string]string{
		"note": "varchar(100) NULL", "code": "nvarchar(20) NOT NULL", "total": "decimal(10,2) NULL"}}, name == "orders"
}

func TestAlterColumnWithTheCatalog(t *testing.T) {
	cases := []struct {
		sql  string
		want string // the rule, "" for none
	}{
		{"ALTER TABLE dbo.orders ALTER COLUMN note varchar(200) NULL", ""},
		{"ALTER TABLE dbo.orders ALTER COLUMN note varchar(50) NULL", "sqlserver-alter-column-shrink"},
		{"ALTER TABLE dbo.orders ALTER COLUMN note nvarchar(100) NULL", "sqlserver-alter-column-type"},
		{"ALTER TABLE dbo.orders ALTER COLUMN code nvarchar(40) NOT NULL", ""},
		{"ALTER TABLE dbo.orders ALTER COLUMN note varchar(100) NOT NULL", "sqlserver-alter-column-not-null"},
		{"ALTER TABLE dbo.orders ALTER COLUMN total decimal(12, 2) NULL", "sqlserver-alter-column-type"},
	}
	for _, c := range cases {
		r, err := Lint(c.sql, lint.Options{Catalog: catalog{rows: 5_000_000}})
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, f := range r.Findings {
			if f.Severity.Hazard() {
				got = f.Rule
			}
		}
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.sql, got, c.want)
		}
	}
}

// TestSmallTableIsAnAdvisory: the live catalog turns a size-dependent
// hazard on a small table into an advisory.
func TestSmallTableIsAnAdvisory(t *testing.T) {
	r, err := Lint("CREATE INDEX ix ON dbo.orders (note)", lint.Options{Catalog: catalog{rows: 50}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Flagged() || len(r.Findings) != 1 || !strings.Contains(r.Findings[0].Message, "brief") {
		t.Errorf("findings = %+v, want one advisory", r.Findings)
	}
}

func TestLintRefusesAnUnterminatedString(t *testing.T) {
	_, err := Lint("SELECT 1\nGO\nSELECT 'x", lint.Options{})
	if err == nil || !strings.Contains(err.Error(), "line 3, column 8") {
		t.Errorf("Lint = %v, want the position of the string", err)
	}
}

func TestTargets(t *testing.T) {
	for in, want := range map[string]int{"SQL Server 2019": 15, "2022": 16, "15.0.4123": 15} {
		tg, err := ResolveTarget(lint.Target{}, "-- target: "+in+"\nSELECT 1")
		if err != nil || tg.Major != want || tg.Flavor != Flavor {
			t.Errorf("%s: %v, %v; want major %d", in, tg, err, want)
		}
	}
	if _, err := ResolveTarget(lint.Target{Flavor: lint.FlavorMySQL, Major: 8}, ""); err == nil {
		t.Error("a MySQL target was accepted")
	}
}
