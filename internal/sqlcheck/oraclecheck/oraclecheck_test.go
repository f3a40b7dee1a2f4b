package oraclecheck_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/lint"
	"github.com/hotswap-db/hotswap/internal/sqlcheck"
	_ "github.com/hotswap-db/hotswap/internal/sqlcheck/oraclecheck"
)

const release = `SET DEFINE OFF
CREATE TABLE app.t (id NUMBER, note VARCHAR2(20) DEFAULT q'[a;b]');
CREATE OR REPLACE PROCEDURE app.p IS
BEGIN
  UPDATE app.t SET note = 'x;y' WHERE id = 1;
END;
/
SHOW ERRORS
CREATE INDEX app.t_note ON app.t (note)
/
`

// TestRegistered: importing the package registers Oracle's checker.
func TestRegistered(t *testing.T) {
	if !sqlcheck.Checked(domain.Oracle) {
		t.Fatal("no Oracle checker registered")
	}
	if err := sqlcheck.Check(domain.Oracle, release); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

// TestSplit returns what the server is sent, client commands left out.
func TestSplit(t *testing.T) {
	got, err := sqlcheck.Split(domain.Oracle, release)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"CREATE TABLE app.t (id NUMBER, note VARCHAR2(20) DEFAULT q'[a;b]')",
		"CREATE OR REPLACE PROCEDURE app.p IS\nBEGIN\n  UPDATE app.t SET note = 'x;y' WHERE id = 1;\nEND;",
		"CREATE INDEX app.t_note ON app.t (note)",
	}
	if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
		t.Errorf("Split = %q, want %q", got, want)
	}
}

// TestParseErrors refuses each lexical error with its line and column.
func TestParseErrors(t *testing.T) {
	cases := []struct {
		script    string
		line, col int
		msg       string
	}{
		{"CREATE TABLE t (id NUMBER);\nINSERT INTO t VALUES ('x);", 2, 23, "unterminated string"},
		{"SELECT q'{x' FROM dual;", 1, 8, "unterminated q-quoted"},
		{"/* header\nDROP TABLE t;", 1, 1, "unterminated comment"},
		{"CREATE TABLE \"t (id NUMBER);", 1, 14, "unterminated quoted identifier"},
		{"CREATE TABLE t (id NUMBER;", 1, 16, "unclosed '('"},
		{"DROP TABLE t;\nALTR TABLE u ADD (c NUMBER);", 2, 1, `unknown statement "ALTR"`},
	}
	for _, c := range cases {
		err := sqlcheck.Check(domain.Oracle, c.script)
		var se *sqlcheck.SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: err = %v, want a SyntaxError", c.script, err)
			continue
		}
		if se.Line != c.line || se.Column != c.col || !strings.Contains(se.Message, c.msg) || se.Position == 0 {
			t.Errorf("%q: got %d:%d (%d) %q, want %d:%d %q", c.script, se.Line, se.Column, se.Position, se.Message, c.line, c.col, c.msg)
		}
		if _, err := sqlcheck.Split(domain.Oracle, c.script); err == nil {
			t.Errorf("%q: Split accepted it", c.script)
		}
	}
}

// TestLint runs the Oracle rules through the checker.
func TestLint(t *testing.T) {
	r, err := sqlcheck.Lint(domain.Oracle, "CREATE INDEX i ON t (c);", lint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) == 0 || r.Findings[0].Rule != "oracle-index-not-online" || r.Risk != domain.RiskMedium {
		t.Errorf("Lint = %+v, want oracle-index-not-online, Medium", r)
	}
}
