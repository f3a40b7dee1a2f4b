package pgcheck_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/sqlcheck/pgcheck"
)

// TestInTransactions: the decision comes from the parse tree, so a word in
// a string, a comment or an identifier does not change it, and a script's
// own BEGIN ... COMMIT block is told apart from the statements around it.
func TestInTransactions(t *testing.T) {
	cases := []struct {
		name   string
		script string
		want   []bool
		why    string
	}{
		{"plain DDL", "ALTER TABLE t ADD COLUMN c int; CREATE INDEX i ON t (c);", []bool{true, true}, ""},
		{"words in strings and names", "COMMENT ON TABLE t IS 'never VACUUM or CREATE DATABASE here';\n" +
			"ALTER TABLE t ADD COLUMN \"concurrently\" int; -- CONCURRENTLY in a comment", []bool{true, true}, ""},
		{"concurrent build", "ALTER TABLE t ADD COLUMN c int; CREATE INDEX CONCURRENTLY i ON t (c);", []bool{false, false},
			"CREATE INDEX CONCURRENTLY (statement 2) cannot run in a transaction block"},
		{"reindex option", "REINDEX (CONCURRENTLY) INDEX i;", []bool{false}, "REINDEX CONCURRENTLY (statement 1)"},
		{"own block", "CREATE INDEX CONCURRENTLY i ON t (c); BEGIN; ALTER TABLE t ADD COLUMN d int; COMMIT; VACUUM t;",
			[]bool{false, true, true, true, false}, "the script controls its own transactions (statement 2: BEGIN)"},
	}
	for _, c := range cases {
		stmts, err := pgcheck.Statements(c.script)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, why, err := pgcheck.Checker{}.InTransactions(stmts)
		if err != nil || !slices.Equal(got, c.want) || (c.why == "") != (why == "") || !strings.Contains(why, c.why) {
			t.Errorf("%s: InTransactions = %v, %q, %v; want %v, %q", c.name, got, why, err, c.want, c.why)
		}
	}
	if _, _, err := (pgcheck.Checker{}).InTransactions([]string{"ALTER TABLE"}); err == nil {
		t.Error("a statement that does not parse: no error")
	}
}
