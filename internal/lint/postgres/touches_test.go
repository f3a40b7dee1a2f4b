package postgres

import (
	"testing"

	"github.com/hotswap-db/hotswap/internal/lint"
)

func TestObjectsTouched(t *testing.T) {
	t.Parallel()
	script := `CREATE TABLE IF NOT EXISTS audit (id int);
CREATE UNIQUE INDEX CONCURRENTLY users_email ON app.users (lower(email), id);
ALTER TABLE orders ADD COLUMN note text;
DROP INDEX IF EXISTS old_idx;
ALTER TABLE orders RENAME TO purchases;
-- DROP TABLE commented_out;
UPDATE accounts SET x = 1 WHERE id = 2;`
	r, err := Lint(script, lint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []lint.Object{
		{Kind: lint.ObjectTable, Name: "audit", Action: lint.ActionCreate, Optional: true, Statement: 1},
		{Kind: lint.ObjectTable, Name: "app.users", Action: lint.ActionAlter, Statement: 2},
		{Kind: lint.ObjectIndex, Name: "app.users_email", Table: "app.users", Action: lint.ActionCreate, Unique: true,
			Columns: []string{"lower(email)", "id"}, Statement: 2},
		{Kind: lint.ObjectTable, Name: "orders", Action: lint.ActionAlter, Statement: 3},
		{Kind: lint.ObjectIndex, Name: "old_idx", Action: lint.ActionDrop, Optional: true, Statement: 4},
		{Kind: lint.ObjectTable, Name: "orders", Action: lint.ActionAlter, Statement: 5},
		{Kind: lint.ObjectTable, Name: "purchases", Action: lint.ActionCreate, Statement: 5},
		{Kind: lint.ObjectTable, Name: "accounts", Action: lint.ActionWrite, Statement: 6},
	}
	if len(r.Objects) != len(want) {
		t.Fatalf("objects = %+v, want %d", r.Objects, len(want))
	}
	for i := range want {
		got, w := r.Objects[i], want[i]
		if got.Kind != w.Kind || got.Name != w.Name || got.Table != w.Table || got.Action != w.Action ||
			got.Optional != w.Optional || got.Unique != w.Unique || got.Statement != w.Statement ||
			len(got.Columns) != len(w.Columns) || (len(w.Columns) > 0 && got.Columns[0] != w.Columns[0]) {
			t.Errorf("object %d = %+v, want %+v", i, got, w)
		}
	}
}
