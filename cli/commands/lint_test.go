package commands

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/lint/offline"
)

func TestLintExitCodes(t *testing.T) {
	clean := writeFile(t, "clean.sql", "CREATE INDEX CONCURRENTLY users_email ON users (email);\n-- CREATE INDEX x ON users (a);\n")
	unsafe := writeFile(t, "unsafe.sql", "SELECT 1;\nCREATE INDEX users_email ON users (email);\n")
	broken := writeFile(t, "broken.sql", "CREATE TABEL t (id int);")
	mysqlOld := writeFile(t, "my.sql", "ALTER TABLE t ADD COLUMN c INT AFTER b;")
	tests := []struct {
		name     string
		args     []string
		want     int
		inStdout []string
		inStderr []string
	}{
		{"clean file", []string{"lint", clean}, ExitOK, []string{"clean.sql: risk Low"}, nil},
		{"a warning", []string{"lint", clean, unsafe}, ExitError,
			[]string{"unsafe.sql:2:1: warning require-concurrent-index-creation", "CREATE INDEX CONCURRENTLY users_email", "unsafe.sql: risk Medium"},
			[]string{"1 of 2 files have a warning or an error"}},
		{"a script that does not parse", []string{"lint", broken}, ExitError, nil, []string{"broken.sql", "syntax error"}},
		{"mysql before INSTANT ADD COLUMN AFTER", []string{"lint", "--engine", "mysql", "--target-version", "8.0.23", mysqlOld}, ExitError,
			[]string{"warning mysql-online-rebuild"}, nil},
		{"mysql with INSTANT ADD COLUMN AFTER", []string{"lint", "--engine", "mysql", "--target-version", "8.0.35", mysqlOld}, ExitOK, nil, nil},
		{"no file", []string{"lint"}, ExitUsage, nil, []string{"lint needs FILE"}},
		{"missing file", []string{"lint", "/nonexistent/x.sql"}, ExitUsage, nil, []string{"no such file"}},
		{"unknown engine", []string{"lint", "--engine", "db2", clean}, ExitUsage, nil, []string{"unknown engine"}},
		{"bad target version", []string{"lint", "--target-version", "latest", clean}, ExitUsage, nil, []string{"target-version"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, "", tt.args...)
			if r.code != tt.want {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tt.want, r.stdout, r.stderr)
			}
			wantContains(t, "stdout", r.stdout, tt.inStdout...)
			wantContains(t, "stderr", r.stderr, tt.inStderr...)
		})
	}
}

func TestLintJSON(t *testing.T) {
	unsafe := writeFile(t, "drop.sql", "ALTER TABLE users DROP COLUMN legacy;\nCREATE INDEX users_email ON users (email);\n")
	r := runCLI(t, "CREATE TABLE t (id int);", "lint", "-o", "json", unsafe, "-")
	if r.code != ExitError {
		t.Fatalf("exit %d, want 1: %s", r.code, r.stderr)
	}
	var rep []offline.JSONFinding
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("-o json is not a bare array of findings: %v\n%s", err, r.stdout)
	}
	var rules []string
	risk := map[string]domain.RiskLevel{}
	for _, f := range rep {
		rules = append(rules, f.File+":"+f.Rule)
		if f.Rule == offline.RuleComputedRisk {
			risk[f.File] = f.Risk
		}
	}
	want := []string{unsafe + ":ban-drop-column", unsafe + ":require-concurrent-index-creation", unsafe + ":computed-risk", "-:computed-risk"}
	if strings.Join(rules, " ") != strings.Join(want, " ") {
		t.Errorf("entries = %v, want %v", rules, want)
	}
	if risk[unsafe] != domain.RiskHigh || risk["-"] != domain.RiskLow {
		t.Errorf("risk per file = %v, want High for the drop and Low for stdin", risk)
	}
	if rep[1].Line != 2 || rep[1].Column != 1 || !strings.Contains(rep[1].Rewrite, "CONCURRENTLY") || rep[1].Severity != "warning" {
		t.Errorf("index finding = %+v, want line 2 column 1 with its rewrite", rep[1])
	}
}

func TestMigrationCreatePrintsFindingsAndValidate(t *testing.T) {
	registerDatabase(t, "judge-host", "judged")
	up := writeFile(t, "up.sql", "CREATE INDEX accounts_email ON accounts (email);\n")
	down := writeFile(t, "down.sql", "DROP INDEX CONCURRENTLY IF EXISTS accounts_email;\n")
	low := hs(t, "migration", "create", "--name", "index_email", "--database", "judged", "--up", up, "--down", down, "--risk", "Low")
	if low.code != ExitError {
		t.Fatalf("create at Low: exit %d, want 1\n%s", low.code, low.stderr)
	}
	wantContains(t, "refusal", low.stderr, "computed risk is Medium", "require-concurrent-index-creation at line 1")

	out := mustHS(t, "migration", "create", "--name", "index_email", "--database", "judged", "--up", up, "--down", down)
	wantContains(t, "create output", out, "Medium (approval required)", "Computed risk:", "Findings:",
		"line 1:1 warning require-concurrent-index-creation", "CREATE INDEX CONCURRENTLY accounts_email")

	v := hs(t, "migration", "validate", "index_email", "--database", "judged")
	if v.code != ExitOK {
		t.Fatalf("validate: exit %d\n%s\n%s", v.code, v.stdout, v.stderr)
	}
	wantContains(t, "validate output", v.stdout, "Verdict:", "valid", "static:", "not connected", "Warnings:",
		"require-concurrent-index-creation")
}
