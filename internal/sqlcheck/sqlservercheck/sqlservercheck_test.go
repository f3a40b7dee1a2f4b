package sqlservercheck

import (
	"errors"
	"slices"
	"testing"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/lint"
	"github.com/hotswap-db/hotswap/internal/sqlcheck"
)

func TestRegistered(t *testing.T) {
	if !sqlcheck.Checked(domain.SQLServer) {
		t.Fatal("the checker is not registered")
	}
}

func TestParseReportsLineAndColumn(t *testing.T) {
	err := sqlcheck.Check(domain.SQLServer, "CREATE TABLE t (a int)\nGO\nINSERT INTO t VALUES (N'it''s)\n")
	var se *sqlcheck.SyntaxError
	if !errors.As(err, &se) || se.Line != 3 || se.Column != 23 || se.Position != 49 {
		t.Fatalf("Check = %#v, want an unterminated string at 3:23 (character 49)", err)
	}
	if err := Parse("SELECT [a]]b], 'x''y' /* /* */ */\nGO 2"); err != nil {
		t.Errorf("Parse of a valid script = %v", err)
	}
}

func TestSplit(t *testing.T) {
	got, err := sqlcheck.Split(domain.SQLServer, "CREATE TABLE t (a int);\nCREATE INDEX ix ON t (a)\nGO\nEXEC sp_rename 't', 'u'\n")
	want := []string{"CREATE TABLE t (a int)", "CREATE INDEX ix ON t (a)", "EXEC sp_rename 't', 'u'"}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("Split = %q, %v; want %q", got, err, want)
	}
	if _, err := Statements("SELECT (1"); err == nil {
		t.Error("an open parenthesis was split")
	}
}

func TestLintHook(t *testing.T) {
	r, err := sqlcheck.Lint(domain.SQLServer, "CREATE INDEX ix ON dbo.t (a)", lint.Options{})
	if err != nil || len(r.Findings) != 1 || r.Findings[0].Rule != "sqlserver-index-not-online" || r.Risk != domain.RiskMedium {
		t.Fatalf("Lint = %+v, %v; want the offline index build at Medium", r.Findings, err)
	}
}
