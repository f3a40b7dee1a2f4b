package validation

import (
	"slices"
	"testing"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/lint"
	_ "github.com/hotswap-db/hotswap/internal/sqlcheck/pgcheck"
	_ "github.com/hotswap-db/hotswap/internal/sqlcheck/sqlservercheck"
)

// TestStatementsInTransaction: the transaction column comes from each
// engine's checker: SQL Server and PostgreSQL run DDL in a transaction
// except the commands that refuse one; MySQL's DDL commits by itself.
func TestStatementsInTransaction(t *testing.T) {
	cases := []struct {
		engine domain.DatabaseType
		sql    []string
		want   []bool
	}{
		{domain.SQLServer, []string{"ALTER TABLE t ADD c int NULL"}, []bool{true}},
		{domain.SQLServer, []string{"ALTER TABLE t ADD c int NULL", "ALTER DATABASE CURRENT SET RECOVERY FULL"}, []bool{false, false}},
		{domain.SQLServer, []string{"CREATE FULLTEXT INDEX ON t (c) KEY INDEX pk"}, []bool{false}},
		{domain.SQLServer, []string{"CREATE INDEX ix ON t (c) WITH (ONLINE = ON, RESUMABLE = ON)"}, []bool{false}},
		{domain.PostgreSQL, []string{"ALTER TABLE t ADD COLUMN c int", "COMMENT ON TABLE t IS 'no VACUUM'"}, []bool{true, true}},
		{domain.PostgreSQL, []string{"ALTER TABLE t ADD COLUMN c int", "CREATE INDEX CONCURRENTLY i ON t (c)"}, []bool{false, false}},
		{domain.MySQL, []string{"ALTER TABLE t ADD COLUMN c int"}, []bool{false}},
	}
	for _, c := range cases {
		r := lint.Result{}
		for i, sql := range c.sql {
			r.Statements = append(r.Statements, lint.Statement{Index: i + 1, SQL: sql})
		}
		reps, why := statementReports(r, NewCatalog(nil), c.engine)
		var got []bool
		for _, rep := range reps {
			got = append(got, rep.InTransaction)
		}
		if !slices.Equal(got, c.want) || (why == "") != !slices.Contains(c.want, false) {
			t.Errorf("%s %q: in transaction %v (%q), want %v", c.engine, c.sql, got, why, c.want)
		}
	}
}
