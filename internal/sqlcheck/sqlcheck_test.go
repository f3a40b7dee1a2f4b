package sqlcheck

import (
	"errors"
	"testing"

	"github.com/hotswap-db/hotswap/internal/domain"
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
			err := Check(domain.PostgreSQL, tc.script)
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("Check() = %v, want nil", err)
				}
				return
			}
			var serr *SyntaxError
			if !errors.As(err, &serr) {
				t.Fatalf("Check() = %v, want *SyntaxError", err)
			}
			if serr.Line != tc.wantLine || serr.Column != tc.wantColumn {
				t.Errorf("got line %d column %d, want line %d column %d (%v)", serr.Line, serr.Column, tc.wantLine, tc.wantColumn, serr)
			}
		})
	}
}

func TestStatements(t *testing.T) {
	script := "-- a comment; with a semicolon\nCREATE FUNCTION f() RETURNS text AS $x$ SELECT 'a;b'; $x$ LANGUAGE sql;\n\nSELECT ';' ;"
	got, err := Statements(script)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d statements %q, want 2", len(got), got)
	}
}
