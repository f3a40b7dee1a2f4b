package tsql

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestSplitRealScript cuts a script written as SSMS and sqlcmd users write
// them: nested comments, GO inside strings, comments and names, a repeat
// count, lower-case go, a procedure batch.
func TestSplitRealScript(t *testing.T) {
	b, err := os.ReadFile("testdata/deploy.sql")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Split(string(b))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var repeats []int
	for _, bt := range s.Batches {
		got = append(got, firstWords(bt.Statements[0].Text))
		repeats = append(repeats, bt.Repeat)
	}
	want := []string{"SET ANSI_NULLS", "SET QUOTED_IDENTIFIER", "IF NOT", "CREATE TABLE", "CREATE OR", "PRINT 'done'"}
	if !slices.Equal(got, want) {
		t.Fatalf("batches = %q, want %q", got, want)
	}
	if wantRep := []int{1, 1, 1, 2, 1, 1}; !slices.Equal(repeats, wantRep) {
		t.Errorf("repeats = %v, want %v", repeats, wantRep)
	}
	table := s.Batches[3]
	if len(table.Statements) != 2 || !strings.HasPrefix(table.Statements[1].Text, "CREATE INDEX [ix_order lines]] note]") {
		t.Errorf("the table batch holds %d statements", len(table.Statements))
	}
	if !strings.Contains(table.Text, "it''s a note") {
		t.Errorf("the string with GO lines was cut: %q", table.Text)
	}
	if proc := s.Batches[4]; len(proc.Statements) != 1 {
		t.Errorf("the procedure batch was cut into %d statements", len(proc.Statements))
	}
	if len(s.Comments) != 3 {
		t.Errorf("comments = %d, want 3 (the block, the column's, the GO line's)", len(s.Comments))
	}
}

func firstWords(s string) string {
	f := strings.Fields(s)
	return strings.Join(f[:min(2, len(f))], " ")
}

func TestGOLines(t *testing.T) {
	cases := []struct {
		name   string
		script string
		want   int
	}{
		{"own line", "SELECT 1\nGO\nSELECT 2", 2},
		{"indented with comment", "SELECT 1\n   Go -- next\nSELECT 2", 2},
		{"count", "SELECT 1\nGO 5\nSELECT 2", 2},
		{"not alone", "SELECT 1 GO\nSELECT 2", 1},
		{"followed by text", "SELECT 1\nGO SELECT 2", 1},
		{"after block comment", "SELECT 1\n/* x */ GO\nSELECT 2", 1},
		{"in string", "SELECT 'a\nGO\nb'", 1},
		{"in brackets", "SELECT [a\nGO\nb]", 1},
		{"in line comment", "SELECT 1 -- \nGO\n", 1},
		{"GOTO", "SELECT 1\nGOTO done\ndone:", 1},
		{"trailing", "SELECT 1\nGO\n", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Split(c.script)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(s.Batches); got != c.want {
				t.Errorf("got %d batches, want %d", got, c.want)
			}
		})
	}
}

func TestSplitErrorsHaveLineAndColumn(t *testing.T) {
	cases := []struct {
		name, script    string
		line, col       int
		messageContains string
	}{
		{"string", "SELECT 1\nSELECT 'abc\n", 2, 8, "unterminated string"},
		{"unicode string", "SELECT N'é", 1, 8, "unterminated string"},
		{"bracket", "SELECT [a]] FROM t", 1, 8, "unterminated bracketed name"},
		{"quoted", "SELECT \"a", 1, 8, "unterminated quoted identifier"},
		{"nested comment", "/* a /* b */ SELECT 1", 1, 1, "unterminated comment"},
		{"open paren", "SELECT (1\nGO\nSELECT 2", 1, 8, "never closed"},
		{"close paren", "SELECT 1)", 1, 9, "without its"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Split(c.script)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Split = %v, want an *Error", err)
			}
			if e.Line != c.line || e.Column != c.col || !strings.Contains(e.Message, c.messageContains) {
				t.Errorf("got %q at %d:%d, want %q at %d:%d", e.Message, e.Line, e.Column, c.messageContains, c.line, c.col)
			}
		})
	}
}

func TestStatementsWithoutSemicolons(t *testing.T) {
	script := "ALTER TABLE t ADD c int NULL\nCREATE INDEX ix ON t (c)\nIF 1 = 1\nBEGIN\n  DROP TABLE x\n  DROP TABLE y\nEND\nEXEC sp_rename 't.c', 'd', 'COLUMN'; SELECT 1"
	s, err := Split(script)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, st := range s.Batches[0].Statements {
		got = append(got, firstWords(st.Text))
	}
	want := []string{"ALTER TABLE", "CREATE INDEX", "IF 1", "EXEC sp_rename", "SELECT 1"}
	if !slices.Equal(got, want) {
		t.Fatalf("statements = %q, want %q", got, want)
	}
	cmds := Commands(s.Batches[0].Statements[2].Tokens)
	if len(cmds) != 2 || !cmds[0][0].Is("DROP") || cmds[1][2].Name() != "y" {
		t.Errorf("commands of the IF block = %d, want the two DROPs", len(cmds))
	}
}

func TestTokenName(t *testing.T) {
	toks, err := Tokens("[a]]b] \"c\"\"d\" e", "[a]]b] \"c\"\"d\" e", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tk := range toks {
		got = append(got, tk.Name())
	}
	if want := []string{"a]b", `c"d`, "e"}; !slices.Equal(got, want) {
		t.Errorf("names = %q, want %q", got, want)
	}
}

func TestTargets(t *testing.T) {
	cases := []struct{ sql, want string }{
		{"ALTER TABLE [sales].[Order Lines] ADD c int NULL", "sales.Order Lines"},
		{"CREATE UNIQUE NONCLUSTERED INDEX ix ON dbo.t (a) WITH (ONLINE = ON)", "dbo.t"},
		{"DROP INDEX ix ON t", "t"},
		{"DROP INDEX t.ix", "t"},
		{"DROP TABLE IF EXISTS a, b", "a,b"},
		{"EXEC sp_rename 'dbo.t.c', 'd', 'COLUMN'", "dbo.t"},
		{"EXEC sys.sp_rename N'dbo.t', N'u'", "dbo.t"},
		{"CREATE TABLE t (a int)", ""},
		{"TRUNCATE TABLE x", "x"},
	}
	for _, c := range cases {
		toks, err := Tokens(c.sql, c.sql, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(Targets(toks), ","); got != c.want {
			t.Errorf("Targets(%q) = %q, want %q", c.sql, got, c.want)
		}
	}
}

func TestAlterTableClausesStayInTheirCommand(t *testing.T) {
	script := "ALTER TABLE t\n  ALTER COLUMN c int NOT NULL\nALTER TABLE u\n  DROP COLUMN d\nALTER TABLE v DROP CONSTRAINT ck"
	s, err := Split(script)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.Batches[0].Statements); n != 3 {
		t.Fatalf("statements = %d, want 3", n)
	}
	for _, st := range s.Batches[0].Statements {
		if n := len(Commands(st.Tokens)); n != 1 {
			t.Errorf("%q cut into %d commands", st.Text, n)
		}
	}
}

// TestSplitGeneratedScript cuts a script as SQL Server's script generator
// writes them: bracketed names holding "--", a string holding "/*", a GO
// line inside a dynamic SQL string, lower-case go with a count.
func TestSplitGeneratedScript(t *testing.T) {
	b, err := os.ReadFile("testdata/generated.sql")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Split(string(b))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, bt := range s.Batches {
		got = append(got, firstWords(bt.Statements[0].Text))
	}
	want := []string{"SET ANSI_NULLS", "SET ANSI_PADDING", "IF NOT", "EXEC dbo.sp_executesql", "insert into"}
	if !slices.Equal(got, want) {
		t.Fatalf("batches = %q, want %q", got, want)
	}
	if last := s.Batches[4]; last.Repeat != 10 {
		t.Errorf("GO 10 read as a count of %d", last.Repeat)
	}
	if len(s.Comments) != 1 {
		t.Errorf("comments = %d, want 1: the header (the -- inside the string is text)", len(s.Comments))
	}
	if ts := Targets(Commands(s.Batches[2].Statements[0].Tokens)[0]); len(ts) != 0 {
		t.Errorf("the CREATE TABLE inside IF ... BEGIN ... END has targets %v", ts)
	}
}
