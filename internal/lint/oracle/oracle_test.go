package oracle

import (
	"slices"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/lint"
)

// rules lints script and returns the rules of its findings, hazards and
// advisories alike.
func rules(t *testing.T, script string, opts lint.Options) []string {
	t.Helper()
	r, err := Lint(script, opts)
	if err != nil {
		t.Fatalf("Lint(%q): %v", script, err)
	}
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.Rule)
	}
	return out
}

// TestRules gives each rule a statement that raises it and a close one
// that does not.
func TestRules(t *testing.T) {
	cases := []struct {
		rule, bad, good string
	}{
		{"oracle-index-not-online", "CREATE INDEX i ON t (c);", "CREATE INDEX i ON t (c) ONLINE;"},
		{"oracle-index-not-online", "ALTER INDEX i REBUILD;", "ALTER INDEX i REBUILD ONLINE;"},
		{"ban-drop-column", "ALTER TABLE t DROP COLUMN c;", "ALTER TABLE t DROP CONSTRAINT t_ck;"},
		{"oracle-drop-unused-columns", "ALTER TABLE t DROP UNUSED COLUMNS;", "ALTER TABLE t ADD (c NUMBER);"},
		{"oracle-move-not-online", "ALTER TABLE t MOVE;", "ALTER TABLE t MOVE ONLINE;"},
		{"oracle-add-not-null-without-default", "ALTER TABLE t ADD (c NUMBER NOT NULL);", "ALTER TABLE t ADD (c NUMBER DEFAULT 0 NOT NULL);"},
		{"oracle-validating-constraint", "ALTER TABLE t ADD CONSTRAINT t_ck CHECK (c > 0);", "ALTER TABLE t ADD CONSTRAINT t_ck CHECK (c > 0) ENABLE NOVALIDATE;"},
		{"oracle-constraint-index-not-online", "ALTER TABLE t ADD PRIMARY KEY (id);", "ALTER TABLE t ADD CONSTRAINT t_pk PRIMARY KEY (id) USING INDEX t_pk_i ENABLE NOVALIDATE;"},
		{"oracle-modify-not-null", "ALTER TABLE t MODIFY (c NOT NULL);", "ALTER TABLE t MODIFY (c NULL);"},
		{"oracle-column-type-change", "ALTER TABLE t MODIFY (c VARCHAR2(20));", "ALTER TABLE t MODIFY (c DEFAULT 'x');"},
		{"renaming-table", "ALTER TABLE t RENAME TO u;", "ALTER TABLE t RENAME CONSTRAINT a TO b;"},
		{"renaming-column", "ALTER TABLE t RENAME COLUMN a TO b;", "ALTER TABLE t ADD (b NUMBER);"},
		{"ban-drop-table", "DROP TABLE t;", "CREATE TABLE t (id NUMBER); DROP TABLE t;"},
		{"ban-truncate", "TRUNCATE TABLE t;", "CREATE TABLE t (id NUMBER); TRUNCATE TABLE t;"},
		{"ban-drop-partition", "ALTER TABLE t DROP PARTITION p1;", "ALTER TABLE t ADD PARTITION p9 VALUES LESS THAN (9);"},
		{"ban-drop-schema", "DROP USER u CASCADE;", "CREATE USER u IDENTIFIED BY x;"},
		{"update-without-where", "UPDATE t SET c = 1;", "UPDATE t SET c = 1 WHERE id = 2;"},
		{"delete-without-where", "DELETE FROM t;", "DELETE FROM t WHERE id = 2;"},
		{"ddl-commits-transaction", "UPDATE t SET c = 1 WHERE id = 1;\nALTER TABLE u ADD (x NUMBER);", "UPDATE t SET c = 1 WHERE id = 1;\nCOMMIT;\nALTER TABLE u ADD (x NUMBER);"},
		{"oracle-replace-stored-unit", "CREATE OR REPLACE PACKAGE BODY p AS END;\n/", "CREATE PACKAGE BODY p AS END;\n/"},
		{"oracle-several-clauses", "ALTER TABLE t ADD (a NUMBER) MODIFY (b NOT NULL);", "ALTER TABLE t ADD (a NUMBER, b NUMBER);"},
		{"oracle-dynamic-sql", "BEGIN EXECUTE IMMEDIATE 'DROP TABLE t'; END;\n/", "BEGIN NULL; END;\n/"},
		{"oracle-index-not-online", "CREATE UNIQUE INDEX i ON t (c)\n/", "CREATE TABLE t (c NUMBER);\nCREATE UNIQUE INDEX i ON t (c)\n/"},
	}
	for _, c := range cases {
		if got := rules(t, c.bad, lint.Options{}); !slices.Contains(got, c.rule) {
			t.Errorf("%q: rules = %v, want %s", c.bad, got, c.rule)
		}
		if got := rules(t, c.good, lint.Options{}); slices.Contains(got, c.rule) {
			t.Errorf("%q: rules = %v, want no %s", c.good, got, c.rule)
		}
	}
}

// TestTargetVersions checks the rules that depend on the release.
func TestTargetVersions(t *testing.T) {
	v11 := lint.Options{Target: lint.Target{Major: 11, Minor: 2}}
	if got := rules(t, "ALTER TABLE t ADD (c NUMBER DEFAULT 0);", v11); !slices.Contains(got, "oracle-add-default-rewrite") {
		t.Errorf("11.2: rules = %v, want oracle-add-default-rewrite", got)
	}
	if got := rules(t, "ALTER TABLE t ADD (c NUMBER DEFAULT 0);", lint.Options{}); len(got) != 0 {
		t.Errorf("19c: rules = %v, want none", got)
	}
	r, _ := Lint("ALTER TABLE t MOVE;", v11)
	if !strings.Contains(r.Findings[0].Rewrite, "DBMS_REDEFINITION") {
		t.Errorf("11.2 MOVE rewrite = %q, want DBMS_REDEFINITION", r.Findings[0].Rewrite)
	}
	r, _ = Lint("ALTER TABLE t DROP COLUMN c;", v11)
	if strings.Contains(r.Findings[0].Rewrite, "ONLINE") {
		t.Errorf("11.2 DROP COLUMN rewrite = %q, want no ONLINE (12.1 on)", r.Findings[0].Rewrite)
	}
	if _, err := Lint("DROP TABLE t;", lint.Options{Target: lint.Target{Flavor: lint.FlavorMySQL, Major: 8}}); err == nil {
		t.Error("a MySQL target was accepted")
	}
	r, _ = Lint("-- target: Oracle 23ai\nALTER TABLE t MOVE;", lint.Options{})
	if r.Target.Major != 23 || r.Target.Flavor != FlavorOracle {
		t.Errorf("target = %v, want Oracle 23", r.Target)
	}
}

// catalog is a fixed lint.Catalog.
type catalog map[string]lint.TableInfo

// Table returns the table's info.
func (c catalog) Table(schema, name string) (lint.TableInfo, bool) {
	i, ok := c[schema+"."+name]
	return i, ok
}

// TestCatalog lets widenings through when the catalog knows the old type,
// and turns size-dependent hazards on small tables into advisories.
func TestCatalog(t *testing.T) {
	cat := catalog{"app.orders": {Rows: 5_000_000, Bytes: 1 << 30, Columns: map[string]string{"NOTE": "VARCHAR2(100)", "AMOUNT": "NUMBER(10,2)"}},
		"app.tiny": {Rows: 10, Bytes: 65536}}
	opts := lint.Options{Catalog: cat}
	for stmt, want := range map[string]bool{
		"ALTER TABLE app.orders MODIFY (note VARCHAR2(200));":  false,
		"ALTER TABLE app.orders MODIFY (note VARCHAR2(50));":   true,
		"ALTER TABLE app.orders MODIFY (amount NUMBER(12,2));": false,
		"ALTER TABLE app.orders MODIFY (amount NUMBER(12,3));": true,
		"ALTER TABLE app.orders MODIFY (note CLOB);":           true,
	} {
		got := slices.Contains(rules(t, stmt, opts), "oracle-column-type-change")
		if got != want {
			t.Errorf("%s: type change flagged = %v, want %v", stmt, got, want)
		}
	}
	if got := rules(t, "ALTER TABLE app.empty ADD (c NUMBER NOT NULL);", lint.Options{Catalog: catalog{"app.empty": {}}}); len(got) != 0 {
		t.Errorf("NOT NULL on an empty table: rules = %v, want none", got)
	}
	if got := rules(t, "ALTER TABLE app.tiny ADD (c NUMBER NOT NULL);", opts); !slices.Contains(got, "oracle-add-not-null-without-default") {
		t.Errorf("NOT NULL on a table with rows: rules = %v, want the failure", got)
	}
	r, err := Lint("CREATE INDEX app.tiny_c ON app.tiny (c);", opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.Flagged() || r.Risk != domain.RiskLow {
		t.Errorf("index on a small table: flagged %v, risk %s; want an advisory, Low", r.Flagged(), r.Risk)
	}
}

// TestLexErrorFails: a script that does not lex is an error, not a result.
func TestLexErrorFails(t *testing.T) {
	if _, err := Lint("SELECT 'abc FROM dual;", lint.Options{}); err == nil {
		t.Error("an unterminated string was linted")
	}
}

// TestObjects lists the objects a script touches.
func TestObjects(t *testing.T) {
	r, err := Lint("CREATE UNIQUE INDEX app.i ON app.t (a, b) ONLINE;\nALTER TABLE app.t ADD (c NUMBER);\nDROP TABLE app.u;", lint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []lint.Object{
		{Kind: lint.ObjectIndex, Name: "app.i", Table: "app.t", Action: lint.ActionCreate, Columns: []string{"a", "b"}, Unique: true, Statement: 1},
		{Kind: lint.ObjectTable, Name: "app.t", Action: lint.ActionAlter, Statement: 2},
		{Kind: lint.ObjectTable, Name: "app.u", Action: lint.ActionDrop, Statement: 3},
	}
	if len(r.Objects) != len(want) {
		t.Fatalf("objects = %+v, want %+v", r.Objects, want)
	}
	for i := range want {
		if !objectEqual(r.Objects[i], want[i]) {
			t.Errorf("object %d = %+v, want %+v", i, r.Objects[i], want[i])
		}
	}
}

// objectEqual compares two objects.
func objectEqual(a, b lint.Object) bool {
	return a.Kind == b.Kind && a.Name == b.Name && a.Table == b.Table && a.Action == b.Action &&
		slices.Equal(a.Columns, b.Columns) && a.Unique == b.Unique && a.Statement == b.Statement
}

// TestPositionsAndIgnores places findings on their statement's line and
// honours an inline ignore with its reason.
func TestPositionsAndIgnores(t *testing.T) {
	script := "CREATE TABLE app.n (id NUMBER);\n\n  CREATE INDEX app.i ON app.t (c);\n" +
		"-- hotswap:ignore ban-drop-table archived last year\nDROP TABLE app.old;\n"
	r, err := Lint(script, lint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 1 || r.Findings[0].Rule != "oracle-index-not-online" || r.Findings[0].Line != 3 || r.Findings[0].Column != 3 {
		t.Fatalf("findings = %+v, want the index build at 3:3", r.Findings)
	}
	if len(r.Ignored) != 1 || r.Ignored[0].Rule != "ban-drop-table" || r.Ignored[0].IgnoreReason != "archived last year" {
		t.Errorf("ignored = %+v, want ban-drop-table with its reason", r.Ignored)
	}
	if r.Risk != domain.RiskHigh {
		t.Errorf("risk = %s, want High: an ignored data loss still counts", r.Risk)
	}
}
