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
	"pg/001.sql": "SELECT 1;\nCREATE INDEX idx_a ON a (b);\n",
	"pg/002.sql": "CREATE INDEX CONCURRENTLY idx_a ON a (b);\n",
	"my/001.sql": "-- target: MySQL 8.0.23\nALTER TABLE t ADD COLUMN c INT AFTER b;\n",
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
	var rep offline.JSONReport
	if err := json.Unmarshal(buf.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].File != "pg/001.sql" || rep.Findings[0].Line != 2 ||
		rep.Findings[0].Rule != "require-concurrent-index-creation" || !strings.Contains(rep.Findings[0].Rewrite, "CONCURRENTLY") {
		t.Errorf("findings = %+v", rep.Findings)
	}
	if len(rep.Files) != 2 || rep.Files[0].Risk != "Medium" || rep.Files[1].Risk != "Low" {
		t.Errorf("files = %+v", rep.Files)
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
	if _, err := offline.Lint(offline.Options{Engine: "oracle"}, nil, read); !errors.Is(err, offline.ErrUnknownEngine) {
		t.Errorf("unknown engine: %v", err)
	}
	if _, err := offline.Lint(offline.Options{}, []string{"missing.sql"}, read); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
