package plsql

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestSplitRealScript splits a release script with a package, a trigger,
// anonymous blocks, q-quotes, SQL*Plus commands and slash lines.
func TestSplitRealScript(t *testing.T) {
	b, err := os.ReadFile("testdata/release_42.sql")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Split(string(b))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		kind   Kind
		prefix string
		suffix string
	}{
		{Client, "SET DEFINE OFF", "OFF"},
		{Client, "PROMPT creating", "table"},
		{SQL, "CREATE TABLE billing.invoice (", "-- a ; inside a string\n)"},
		{SQL, "CREATE INDEX billing.invoice_customer", "ONLINE"},
		{PLSQL, "CREATE OR REPLACE PACKAGE billing.invoice_api AS", "END invoice_api;"},
		{Client, "SHOW ERRORS", "ERRORS"},
		{PLSQL, "CREATE OR REPLACE PACKAGE BODY", "END total;\nEND invoice_api;"},
		{PLSQL, "CREATE OR REPLACE TRIGGER", "END;"},
		{PLSQL, "DECLARE", "DBMS_OUTPUT.PUT_LINE(v_msg);\nEND;"},
		{PLSQL, "BEGIN\n  NULL;", "END;"},
		{PLSQL, "BEGIN DBMS_STATS.GATHER_TABLE_STATS('BILLING', 'INVOICE')", "; END;"},
		{PLSQL, "CREATE TYPE billing.money_t AS OBJECT", "CHAR(3));"},
		{SQL, "ALTER TABLE billing.invoice ADD CONSTRAINT", "ENABLE NOVALIDATE"},
		{SQL, `COMMENT ON TABLE "BILLING"."INVOICE"`, "one per order'"},
	}
	if len(s.Statements) != len(want) {
		for i, st := range s.Statements {
			t.Logf("%d %s: %q", i, st.Kind, st.Text)
		}
		t.Fatalf("got %d statements, want %d", len(s.Statements), len(want))
	}
	for i, w := range want {
		got := s.Statements[i]
		if got.Kind != w.kind || !strings.HasPrefix(got.Text, w.prefix) || !strings.HasSuffix(got.Text, w.suffix) {
			t.Errorf("statement %d: got %s %q, want %s starting %q ending %q", i+1, got.Kind, got.Text, w.kind, w.prefix, w.suffix)
		}
		if got.Kind != PLSQL || !strings.HasPrefix(got.Text, "BEGIN DBMS_STATS") {
			if string(b)[got.Offset:got.End] != got.Text {
				t.Errorf("statement %d: offsets do not match its text", i+1)
			}
		}
	}
	if n := len(s.Database()); n != len(want)-3 {
		t.Errorf("Database() = %d statements, want %d", n, len(want)-3)
	}
	if s.Statements[2].Line != 4 || s.Statements[2].Column != 1 {
		t.Errorf("CREATE TABLE at %d:%d, want 4:1", s.Statements[2].Line, s.Statements[2].Column)
	}
	if len(s.Comments) < 4 {
		t.Errorf("comments = %d, want at least 4", len(s.Comments))
	}
}

// TestSplitCases covers the boundaries one by one.
func TestSplitCases(t *testing.T) {
	cases := []struct {
		name, script string
		want         []string
	}{
		{"semicolons", "CREATE TABLE a (x NUMBER); DROP TABLE b;", []string{"CREATE TABLE a (x NUMBER)", "DROP TABLE b"}},
		{"no final semicolon", "ALTER TABLE a ADD (y NUMBER)", []string{"ALTER TABLE a ADD (y NUMBER)"}},
		{"slash ends sql", "CREATE TABLE a (x NUMBER)\n/\nDROP TABLE b", []string{"CREATE TABLE a (x NUMBER)", "DROP TABLE b"}},
		{"slash after semicolon dropped", "DROP TABLE b;\n/\n", []string{"DROP TABLE b"}},
		{"division is not a slash line", "SELECT 4 / 2 FROM dual;", []string{"SELECT 4 / 2 FROM dual"}},
		{"q quote with same delimiter", "INSERT INTO t VALUES (q'!a';b!');", []string{"INSERT INTO t VALUES (q'!a';b!')"}},
		{"nq quote", "INSERT INTO t VALUES (nq'<x;y>');", []string{"INSERT INTO t VALUES (nq'<x;y>')"}},
		{"doubled quote", "INSERT INTO t VALUES ('it''s;');", []string{"INSERT INTO t VALUES ('it''s;')"}},
		{"quoted identifier with semicolon", `CREATE TABLE "a;b" (x NUMBER);`, []string{`CREATE TABLE "a;b" (x NUMBER)`}},
		{"block at end of file without slash", "BEGIN\n  NULL;\nEND;", []string{"BEGIN\n  NULL;\nEND;"}},
		{"function", "CREATE FUNCTION f RETURN NUMBER IS BEGIN RETURN 1; END;\n/\nSELECT f FROM dual;",
			[]string{"CREATE FUNCTION f RETURN NUMBER IS BEGIN RETURN 1; END;", "SELECT f FROM dual"}},
		{"editionable procedure", "CREATE OR REPLACE EDITIONABLE PROCEDURE p AS BEGIN NULL; END;\n/",
			[]string{"CREATE OR REPLACE EDITIONABLE PROCEDURE p AS BEGIN NULL; END;"}},
		{"set transaction is sql", "SET TRANSACTION READ ONLY;", []string{"SET TRANSACTION READ ONLY"}},
		{"leading comment left out", "-- why\n/* more */ DROP INDEX i;", []string{"DROP INDEX i"}},
		{"execute immediate is plsql", "BEGIN EXECUTE IMMEDIATE 'x'; END;\n/", []string{"BEGIN EXECUTE IMMEDIATE 'x'; END;"}},
		{"labelled block", "<<outer>>\nBEGIN\n  NULL;\nEND outer;\n/\nDROP TABLE t;", []string{"<<outer>>\nBEGIN\n  NULL;\nEND outer;", "DROP TABLE t"}},
		{"crlf", "CREATE TABLE a (x NUMBER)\r\n/\r\nBEGIN\r\n  NULL;\r\nEND;\r\n/\r\n", []string{"CREATE TABLE a (x NUMBER)", "BEGIN\r\n  NULL;\r\nEND;"}},
		{"at-file is client", "@other.sql\nDROP TABLE t;", []string{"@other.sql", "DROP TABLE t"}},
	}
	for _, c := range cases {
		s, err := Split(c.script)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		var got []string
		for _, st := range s.Statements {
			got = append(got, st.Text)
		}
		if strings.Join(got, "\x00") != strings.Join(c.want, "\x00") {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

// TestSplitErrors reports lexical errors with their position.
func TestSplitErrors(t *testing.T) {
	cases := []struct {
		name, script string
		line, col    int
		msg          string
	}{
		{"string", "SELECT 1 FROM dual;\nSELECT 'abc FROM dual;", 2, 8, "unterminated string"},
		{"q quote", "SELECT q'[abc' FROM dual;", 1, 8, "unterminated q-quoted"},
		{"identifier", "CREATE TABLE \"abc (x NUMBER);", 1, 14, "unterminated quoted identifier"},
		{"comment", "DROP TABLE t; /* never\nclosed", 1, 15, "unterminated comment"},
		{"empty identifier", `SELECT "" FROM dual;`, 1, 8, "zero-length"},
		{"string in a block", "BEGIN\n  x := 'é;\nEND;\n/", 2, 8, "unterminated string"},
		{"unclosed paren", "CREATE TABLE t (id NUMBER;\nDROP TABLE u;", 1, 16, "unclosed '('"},
		{"unmatched paren", "SELECT 1) FROM dual;", 1, 9, "unmatched ')'"},
		{"paren in string is text", "SELECT ')' FROM dual;\nSELECT (1 FROM dual;", 2, 8, "unclosed '('"},
	}
	for _, c := range cases {
		_, err := Split(c.script)
		var le *Error
		if !errors.As(err, &le) {
			t.Errorf("%s: err = %v, want *Error", c.name, err)
			continue
		}
		if le.Line != c.line || le.Column != c.col || !strings.Contains(le.Message, c.msg) {
			t.Errorf("%s: got %d:%d %q, want %d:%d %q", c.name, le.Line, le.Column, le.Message, c.line, c.col, c.msg)
		}
	}
}

// TestIsPLSQL tells PL/SQL units from SQL by their leading words.
func TestIsPLSQL(t *testing.T) {
	for words, want := range map[string]bool{
		"BEGIN": true, "DECLARE X": true, "CREATE OR REPLACE PACKAGE BODY": true, "CREATE TRIGGER T": true,
		"CREATE TYPE BODY": true, "CREATE TABLE T": false, "CREATE OR REPLACE VIEW V": false, "ALTER PACKAGE P": false,
		"CREATE INDEX I": false, "": false,
	} {
		if got := IsPLSQL(strings.Fields(words)); got != want {
			t.Errorf("IsPLSQL(%q) = %v, want %v", words, got, want)
		}
	}
}

// BenchmarkSplit splits the release script repeated 100 times (about
// 200 KB, 1,400 pieces).
func BenchmarkSplit(b *testing.B) {
	one, err := os.ReadFile("testdata/release_42.sql")
	if err != nil {
		b.Fatal(err)
	}
	script := strings.Repeat(string(one)+"\n", 100)
	b.SetBytes(int64(len(script)))
	for b.Loop() {
		if _, err := Split(script); err != nil {
			b.Fatal(err)
		}
	}
}
