package mysqlcheck

import (
	"errors"
	"testing"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/sqlcheck"
)

func TestParseAndSplit(t *testing.T) {
	if _, ok := sqlcheck.Lookup(domain.MySQL); !ok {
		t.Fatal("the checker is not registered")
	}
	got, err := Statements("CREATE TABLE t (id int);\nALTER TABLE t ADD COLUMN `a;b` int; -- done\n")
	if err != nil || len(got) != 2 || got[1] != "ALTER TABLE t ADD COLUMN `a;b` int" {
		t.Fatalf("Statements = %q, %v; want two statements", got, err)
	}
	var se *sqlcheck.SyntaxError
	err = Parse("SELECT 1;\nALTER TABLE t ADD COLUMN")
	if !errors.As(err, &se) || se.Line != 2 {
		t.Fatalf("Parse = %v; want a syntax error on line 2", err)
	}
}

func TestRollingCompatible(t *testing.T) {
	cases := []struct {
		script string
		want   bool
	}{
		{"ALTER TABLE t ADD COLUMN c int", true},
		{"CREATE INDEX i ON t (c); ALTER TABLE t ADD INDEX j (d)", true},
		{"CREATE TABLE n (id int)", true},
		{"ALTER TABLE t ADD COLUMN c int AFTER id", false},
		{"ALTER TABLE t DROP COLUMN c", false},
		{"ALTER TABLE t MODIFY c bigint", false},
		{"UPDATE t SET c = 1", false},
	}
	for _, tc := range cases {
		if got, why := RollingCompatible(tc.script); got != tc.want || why == "" {
			t.Errorf("RollingCompatible(%q) = %v (%s), want %v", tc.script, got, why, tc.want)
		}
	}
}
