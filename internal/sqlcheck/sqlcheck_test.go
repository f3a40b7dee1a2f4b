package sqlcheck_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/lint"
	"github.com/hotswap-db/hotswap/internal/sqlcheck"
	_ "github.com/hotswap-db/hotswap/internal/sqlcheck/pgcheck"
)

func TestCheckPostgres(t *testing.T) {
	cases := []struct {
		name       string
		script     string
		wantErr    bool
		wantLine   int
		wantColumn int
	}{
		{name: "valid", script: "ALTER TABLE users ADD COLUMN email text;\nCREATE INDEX CONCURRENTLY i ON users(email);"},
		{name: "dollar quoted function", script: "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;"},
		{name: "typo on line 2", script: "ALTER TABLE users ADD COLUMN a int;\nCREATE TABEL t (id int);", wantErr: true, wantLine: 2, wantColumn: 8},
		{name: "typo after multibyte", script: "-- café\nSELEC 1;", wantErr: true, wantLine: 2, wantColumn: 1},
		{name: "unterminated string", script: "SELECT 'abc", wantErr: true, wantLine: 1, wantColumn: 8},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := sqlcheck.Check(domain.PostgreSQL, tc.script)
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("Check() = %v, want nil", err)
				}
				return
			}
			var serr *sqlcheck.SyntaxError
			if !errors.As(err, &serr) {
				t.Fatalf("Check() = %v, want *SyntaxError", err)
			}
			if serr.Line != tc.wantLine || serr.Column != tc.wantColumn {
				t.Errorf("got line %d column %d, want line %d column %d (%v)", serr.Line, serr.Column, tc.wantLine, tc.wantColumn, serr)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	script := "-- a comment; with a semicolon\nCREATE FUNCTION f() RETURNS text AS $x$ SELECT 'a;b'; $x$ LANGUAGE sql;\n\nSELECT ';' ;"
	got, err := sqlcheck.Split(domain.PostgreSQL, script)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d statements %q, want 2", len(got), got)
	}
}

func TestEngineWithoutChecker(t *testing.T) {
	if err := sqlcheck.Check(domain.MySQL, "this is not SQL at all"); err != nil {
		t.Errorf("Check(MySQL) = %v, want nil: MySQL registers no checker", err)
	}
	if sqlcheck.Checked(domain.MySQL) || !sqlcheck.Checked(domain.PostgreSQL) {
		t.Errorf("Checked: MySQL %v, PostgreSQL %v; want false, true",
			sqlcheck.Checked(domain.MySQL), sqlcheck.Checked(domain.PostgreSQL))
	}
	if _, err := sqlcheck.Lint(domain.MySQL, "SELECT 1", lint.Options{}); !errors.Is(err, sqlcheck.ErrNoChecker) {
		t.Errorf("Lint(MySQL) error = %v, want ErrNoChecker", err)
	}
	if _, err := sqlcheck.Split(domain.MySQL, "SELECT 1"); !errors.Is(err, sqlcheck.ErrNoChecker) {
		t.Errorf("Split(MySQL) error = %v, want ErrNoChecker", err)
	}
}

func TestLintPostgresThroughTheChecker(t *testing.T) {
	script := "-- hotswap:ignore ban-drop-column unused since 4.2\nALTER TABLE users DROP COLUMN legacy;\n" +
		"CREATE INDEX users_email ON users (email);\n" +
		"SELECT 'CREATE INDEX in a string is no finding';"
	r, err := sqlcheck.Lint(domain.PostgreSQL, script, lint.Options{})
	if err != nil {
		t.Fatalf("Lint() error = %v", err)
	}
	if len(r.Findings) != 1 || r.Findings[0].Rule != "require-concurrent-index-creation" || r.Findings[0].Line != 3 ||
		!strings.Contains(r.Findings[0].Rewrite, "CONCURRENTLY") {
		t.Errorf("findings = %+v, want the index build on line 3 with a CONCURRENTLY rewrite", r.Findings)
	}
	if len(r.Ignored) != 1 || r.Ignored[0].IgnoreReason != "unused since 4.2" {
		t.Errorf("ignored = %+v, want the dropped column with its reason", r.Ignored)
	}
	if r.Risk != domain.RiskHigh {
		t.Errorf("risk = %s, want High: an ignored data loss still counts", r.Risk)
	}
	if len(r.Objects) == 0 {
		t.Errorf("objects = none, want the tables and index the script touches")
	}
	if _, err := sqlcheck.Lint(domain.PostgreSQL, "ALTER TABLE;", lint.Options{}); err == nil {
		t.Error("Lint() of a script that does not parse: error = nil, want one")
	}
}
