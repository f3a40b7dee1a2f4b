package validation

import (
	"testing"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/lint"
)

// TestSQLServerTransactional: SQL Server runs DDL in a transaction, except
// the commands that refuse one.
func TestSQLServerTransactional(t *testing.T) {
	cases := []struct {
		sql  string
		want bool
	}{
		{"ALTER TABLE t ADD c int NULL", true},
		{"ALTER DATABASE CURRENT SET RECOVERY FULL", false},
		{"CREATE FULLTEXT INDEX ON t (c) KEY INDEX pk", false},
		{"CREATE INDEX ix ON t (c) WITH (ONLINE = ON, RESUMABLE = ON)", false},
	}
	for _, c := range cases {
		r := lint.Result{Statements: []lint.Statement{{Index: 1, SQL: c.sql}}}
		if got := scriptTransactional(r, domain.SQLServer); got != c.want {
			t.Errorf("%s: transactional %v, want %v", c.sql, got, c.want)
		}
	}
}
