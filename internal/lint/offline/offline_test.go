package offline_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/lint/offline"
)

var files = map[string]string{
	"pg/001.sql":  "SELECT 1;\nCREATE INDEX idx_a ON a (b);\n",
	"pg/002.sql":  "CREATE INDEX CONCURRENTLY idx_a ON a (b);\n",
	"my/001.sql":  "-- target: MySQL 8.0.23\nALTER TABLE t ADD COLUMN c INT AFTER b;\n",
	"ora/001.sql": "CREATE INDEX i ON t (c);\n",
}

func read(name string) ([]byte, error) {
	s, ok := files[name]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return []byte(s), nil
}

func TestLintJSON(t *testing.T) {
	t.Parallel()
	got, err := offline.Lint(offline.Options{}, []string{"pg/001.sql", "pg/002.sql"}, read)
	if err != nil {
		t.Fatal(err)
	}
	if !offline.Flagged(got) {
		t.Errorf("Flagged = false, want true for an index build without CONCURRENTLY")
	}
	var buf bytes.Buffer
	if err := offline.WriteJSON(&buf, got); err != nil {
		t.Fatal(err)
	}
	var rep []offline.JSONFinding
	if err := json.Unmarshal(buf.Bytes(), &rep); err != nil {
		t.Fatalf("the report is not a bare array: %v\n%s", err, buf.String())
	}
	if len(rep) != 3 {
		t.Fatalf("report = %+v, want the finding of 001 and one risk entry per file", rep)
	}
	if f := rep[0]; f.File != "pg/001.sql" || f.Line != 2 || f.Rule != "require-concurrent-index-creation" ||
		!strings.Contains(f.Rewrite, "CONCURRENTLY") || f.Risk != "Medium" || f.Severity != "warning" {
		t.Errorf("finding = %+v", f)
	}
	if r1, r2 := rep[1], rep[2]; r1.Rule != offline.RuleComputedRisk || r1.Risk != "Medium" || r1.Severity != "info" ||
		r2.File != "pg/002.sql" || r2.Rule != offline.RuleComputedRisk || r2.Risk != "Low" {
		t.Errorf("risk entries = %+v, %+v; want Medium for 001 and Low for 002", r1, r2)
	}
}

func TestLintTargetVersionFlag(t *testing.T) {
	t.Parallel()
	old, err := offline.Lint(offline.Options{Engine: "mysql"}, []string{"my/001.sql"}, read)
	if err != nil || !offline.Flagged(old) {
		t.Fatalf("8.0.23 header: flagged=%v err=%v, want a rebuild warning", offline.Flagged(old), err)
	}
	recent, err := offline.Lint(offline.Options{Engine: "mysql", TargetVersion: "8.0.35"}, []string{"my/001.sql"}, read)
	if err != nil || offline.Flagged(recent) {
		t.Fatalf("--target-version 8.0.35: flagged=%v err=%v, want INSTANT and clean", offline.Flagged(recent), err)
	}
	var buf bytes.Buffer
	if err := offline.WriteText(&buf, old); err != nil || !strings.Contains(buf.String(), "my/001.sql:2:1: warning mysql-online-rebuild") {
		t.Errorf("text = %q, %v", buf.String(), err)
	}
}

func TestLintErrors(t *testing.T) {
	t.Parallel()
	if _, err := offline.Lint(offline.Options{Engine: "db2"}, nil, read); !errors.Is(err, offline.ErrUnknownEngine) {
		t.Errorf("unknown engine: %v", err)
	}
	if _, err := offline.Lint(offline.Options{}, []string{"missing.sql"}, read); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestLintSQLServer(t *testing.T) {
	t.Parallel()
	src := map[string]string{"ms/001.sql": "CREATE INDEX ix ON dbo.t (a)\nGO\n"}
	got, err := offline.Lint(offline.Options{Engine: "sqlserver", TargetVersion: "2019"}, []string{"ms/001.sql"},
		func(name string) ([]byte, error) { return []byte(src[name]), nil })
	if err != nil {
		t.Fatal(err)
	}
	if !offline.Flagged(got) || got[0].Result.Target.Major != 15 || got[0].Result.Findings[0].Rule != "sqlserver-index-not-online" {
		t.Errorf("result = %+v, want the offline index build judged against SQL Server 2019 (15)", got[0].Result)
	}
}

func TestLintOracle(t *testing.T) {
	t.Parallel()
	got, err := offline.Lint(offline.Options{Engine: "oracle", TargetVersion: "19"}, []string{"ora/001.sql"}, read)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := offline.WriteText(&buf, got); err != nil || !strings.Contains(buf.String(), "ora/001.sql:1:1: warning oracle-index-not-online") ||
		!strings.Contains(buf.String(), "Oracle 19.0") {
		t.Errorf("text = %q, %v", buf.String(), err)
	}
}
