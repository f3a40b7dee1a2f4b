package mysqlreplay_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/replay"
	"github.com/hotswap-db/hotswap/internal/replay/mysqlreplay"
)

// TestCheckReadOnly: reads pass, anything that writes, locks rows or has a
// side effect a READ ONLY transaction lets through is refused.
func TestCheckReadOnly(t *testing.T) {
	cases := []struct {
		stmt string
		ok   bool
	}{
		{"SELECT id FROM items WHERE k = 42", true},
		{"SELECT `id` FROM `app`.`items` WHERE `k` BETWEEN 1 AND 9 LIMIT 5, 10", true},
		{"/* hotswap-agent replay */ SELECT 1", true},
		{"WITH x AS (SELECT k FROM items) SELECT count(*) FROM x", true},
		{"SELECT id FROM a UNION ALL SELECT id FROM b", true},
		{"SHOW TABLES", true},
		{"SELECT COUNT ( * ) FROM `items` ", true}, // a digest's text
		{"EXPLAIN SELECT * FROM items", true},
		{"EXPLAIN UPDATE items SET k = 1", true},
		{"SELECT id FROM items WHERE k = 1 FOR UPDATE", false},
		{"SELECT id FROM items LOCK IN SHARE MODE", false},
		{"SELECT id FROM a UNION SELECT id FROM b FOR UPDATE", false},
		{"SELECT id FROM items INTO OUTFILE '/tmp/x'", false},
		{"SELECT GET_LOCK('x', 1)", false},
		{"SELECT id FROM items WHERE k = (SELECT MASTER_POS_WAIT('f', 4))", false},
		{"SELECT LOAD_FILE('/etc/passwd')", false},
		{"UPDATE items SET k = 1", false},
		{"INSERT INTO items VALUES (1)", false},
		{"DELETE FROM items", false},
		{"CREATE TABLE t (id int)", false},
		{"SET @a = 1", false},
		{"SELECT 1; SELECT 2", false},
		{"SELECT FROM WHERE", false},
	}
	for _, tc := range cases {
		err := mysqlreplay.Grammar.CheckReadOnly(tc.stmt)
		if (err == nil) != tc.ok {
			t.Errorf("CheckReadOnly(%q) = %v, want ok %v", tc.stmt, err, tc.ok)
		}
	}
	err := mysqlreplay.Grammar.CheckReadOnly("UPDATE items SET k = 1")
	if !errors.Is(err, replay.ErrNotReadOnly) || !strings.Contains(err.Error(), "Update") {
		t.Errorf("CheckReadOnly(UPDATE) = %v, want ErrNotReadOnly naming the statement", err)
	}
}

// TestCollector keeps reads of user tables with their literal values and
// leaves out digests' placeholders, catalog reads and HotSwap's own.
func TestCollector(t *testing.T) {
	c, err := replay.NewCollector(mysqlreplay.Grammar, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"SELECT id FROM items WHERE k = 42",
		"SELECT `id` FROM `items` WHERE `k` = ?",
		"SELECT * FROM information_schema.TABLES",
		"SELECT * FROM hotswap.schema_history",
		"/* hotswap-agent sample */ SELECT id FROM items",
		"SELECT 1",
		"UPDATE items SET k = 1",
		"SELECT id FROM items WHERE k = 42",
	} {
		c.Offer(s)
	}
	w := c.Workload()
	if len(w.Statements) != 1 || w.Statements[0] != "SELECT id FROM items WHERE k = 42" || w.Skipped != 6 {
		t.Errorf("collected %q, %d skipped; want the one point read and 6 skipped", w.Statements, w.Skipped)
	}
}

// TestRegistered: the control plane finds the grammar by engine, and a
// workload file in MySQL's syntax parses.
func TestRegistered(t *testing.T) {
	g, err := replay.GrammarFor(domain.MySQL)
	if err != nil {
		t.Fatal(err)
	}
	w, err := replay.ParseFile(strings.NewReader("-- lookups\nSELECT `id` FROM items WHERE k = 42 LIMIT 1, 2;\n# a comment\nUPDATE items SET k = 2;\nSELECT 1"), g)
	if err != nil || len(w.Statements) != 2 || w.Skipped != 1 {
		t.Errorf("ParseFile = %q, %d skipped, %v; want 2 statements and the UPDATE skipped", w.Statements, w.Skipped, err)
	}
}
