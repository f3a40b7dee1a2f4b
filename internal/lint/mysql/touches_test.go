package mysql

import (
	"slices"
	"testing"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/lint"
)

func TestObjectsTouched(t *testing.T) {
	t.Parallel()
	script := "CREATE TABLE IF NOT EXISTS audit (id int);\n" +
		"CREATE UNIQUE INDEX users_email ON app.Users (email(20), id);\n" +
		"ALTER TABLE orders ADD COLUMN note text, ADD INDEX orders_note (note(8)), DROP INDEX old_idx;\n" +
		"DROP INDEX IF EXISTS gone ON orders;\n" +
		"RENAME TABLE orders TO purchases;\n" +
		"-- DROP TABLE commented_out;\n" +
		"UPDATE accounts SET x = 1 WHERE id = 2;\n" +
		"DROP TABLE IF EXISTS app.tmp;\n" +
		"INSERT INTO events (kind) VALUES ('a');"
	r, err := Lint(script, lint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []lint.Object{
		{Kind: lint.ObjectTable, Name: "audit", Action: lint.ActionCreate, Optional: true, Statement: 1},
		{Kind: lint.ObjectTable, Name: "app.Users", Action: lint.ActionAlter, Statement: 2},
		{Kind: lint.ObjectIndex, Name: "app.users_email", Table: "app.Users", Action: lint.ActionCreate, Unique: true,
			Columns: []string{"email(20)", "id"}, Statement: 2},
		{Kind: lint.ObjectTable, Name: "orders", Action: lint.ActionAlter, Statement: 3},
		{Kind: lint.ObjectIndex, Name: "orders_note", Table: "orders", Action: lint.ActionCreate, Columns: []string{"note(8)"}, Statement: 3},
		{Kind: lint.ObjectIndex, Name: "old_idx", Table: "orders", Action: lint.ActionDrop, Statement: 3},
		{Kind: lint.ObjectIndex, Name: "gone", Table: "orders", Action: lint.ActionDrop, Optional: true, Statement: 4},
		{Kind: lint.ObjectTable, Name: "orders", Action: lint.ActionAlter, Statement: 5},
		{Kind: lint.ObjectTable, Name: "purchases", Action: lint.ActionCreate, Statement: 5},
		{Kind: lint.ObjectTable, Name: "accounts", Action: lint.ActionWrite, Statement: 6},
		{Kind: lint.ObjectTable, Name: "app.tmp", Action: lint.ActionDrop, Optional: true, Statement: 7},
		{Kind: lint.ObjectTable, Name: "events", Action: lint.ActionWrite, Statement: 8},
	}
	if len(r.Objects) != len(want) {
		t.Fatalf("objects = %+v, want %d", r.Objects, len(want))
	}
	for i := range want {
		got, w := r.Objects[i], want[i]
		if got.Kind != w.Kind || got.Name != w.Name || got.Table != w.Table || got.Action != w.Action ||
			got.Optional != w.Optional || got.Unique != w.Unique || got.Statement != w.Statement || !slices.Equal(got.Columns, w.Columns) {
			t.Errorf("object %d = %+v, want %+v", i, got, w)
		}
	}
}

func TestObjectsPrimaryKeyAndRenameIndex(t *testing.T) {
	t.Parallel()
	r, err := Lint("ALTER TABLE t ADD PRIMARY KEY (id), RENAME INDEX a TO b;", lint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range r.Objects {
		got = append(got, string(o.Kind)+":"+o.Name+":"+string(o.Action))
	}
	want := []string{"table:t:alter", "index:PRIMARY:create", "index:a:alter", "index:b:create"}
	if !slices.Equal(got, want) {
		t.Errorf("objects = %q, want %q", got, want)
	}
}

// TestFindingsNameTablesAsWritten: findings name a table as the script
// spells it (MySQL on Linux tells Users from users), while a table created
// earlier in the script is recognised whatever its spelling.
func TestFindingsNameTablesAsWritten(t *testing.T) {
	t.Parallel()
	r, err := Lint("CREATE TABLE Audit (id int);\nCREATE INDEX audit_id ON audit (id);\nDROP TABLE Users;", lint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 1 || r.Findings[0].Rule != "ban-drop-table" || r.Findings[0].Table != "Users" {
		t.Errorf("findings = %+v, want one ban-drop-table on Users", r.Findings)
	}
}

// smallCatalog knows one table of 10 rows.
type smallCatalog struct{}

func (smallCatalog) Table(_, name string) (lint.TableInfo, bool) {
	return lint.TableInfo{Rows: 10, Bytes: 16384, Columns: map[string]string{"note": "varchar(20)"}}, name == "small"
}

// TestSmallTableLowersTheRisk: a size-dependent hazard on a table the
// catalog reports as small is an advisory and no longer raises the risk.
func TestSmallTableLowersTheRisk(t *testing.T) {
	t.Parallel()
	script := "UPDATE small SET note = 'x' WHERE note IS NULL;"
	static, err := Lint(script, lint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	live, err := Lint(script, lint.Options{Catalog: smallCatalog{}})
	if err != nil {
		t.Fatal(err)
	}
	if static.Risk != domain.RiskMedium || live.Risk != domain.RiskLow || len(live.Findings) != 1 || live.Findings[0].Severity != lint.Info {
		t.Errorf("risk static %s, live %s (%+v); want Medium, then Low with the finding an advisory", static.Risk, live.Risk, live.Findings)
	}
}
