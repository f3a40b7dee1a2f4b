package sqlcheck_test

import (
	"errors"
	"testing"

	"github.com/hotswap-db/hotswap/internal/domain"
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
	if got := sqlcheck.Lint(domain.PostgreSQL, "SELECT 1"); got != nil {
		t.Errorf("Lint(PostgreSQL) = %v, want no findings yet", got)
	}
	if _, err := sqlcheck.Split(domain.MySQL, "SELECT 1"); err == nil {
		t.Error("Split(MySQL) = nil error, want one: no checker")
	}
}
