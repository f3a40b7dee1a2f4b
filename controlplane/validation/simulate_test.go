package validation

import (
	"slices"
	"testing"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/lint"
	"github.com/hotswap-db/hotswap/internal/lint/mysql"
	"github.com/hotswap-db/hotswap/internal/lint/postgres"
)

// TestMySQLIndexNamesBelongToTheirTable: the MySQL inspector reports no
// index as a relation, so an index is found among its table's indexes;
// the same index name on another table is free.
func TestMySQLIndexNamesBelongToTheirTable(t *testing.T) {
	t.Parallel()
	facts := &domain.CatalogFacts{FreeDiskBytes: 1 << 40, Relations: []domain.RelationFacts{
		{ObjectName: domain.ObjectName{Name: "a"}, Exists: true, Kind: "table", Rows: 5, Bytes: 16384,
			Columns: map[string]string{"x": "int"}, Indexes: []domain.IndexFacts{{Name: "idx_x", Columns: []string{"x"}, Valid: true}}},
		{ObjectName: domain.ObjectName{Name: "b"}, Exists: true, Kind: "table", Rows: 5, Bytes: 16384, Columns: map[string]string{"x": "int"}},
		{ObjectName: domain.ObjectName{Name: "idx_x"}},
	}}
	script := "ALTER TABLE b ADD INDEX idx_x (x);\nCREATE INDEX IDX_X ON a (x);\nALTER TABLE a DROP INDEX nope;\n" +
		"ALTER TABLE a DROP INDEX idx_x;\nALTER TABLE a ADD INDEX idx_x (x);"
	r, err := mysql.Lint(script, lint.Options{Catalog: NewCatalog(facts)})
	if err != nil {
		t.Fatal(err)
	}
	got := issues(Judge(Input{Result: r, Facts: facts}).Errors)
	want := []string{"name-exists IDX_X", "missing-index nope"}
	if !slices.Equal(got, want) {
		t.Errorf("errors = %q, want %q", got, want)
	}
}

// TestPostgresIndexDroppedByName: an index created on a table and dropped
// by its name alone is gone, and may be created again.
func TestPostgresIndexDroppedByName(t *testing.T) {
	t.Parallel()
	facts := &domain.CatalogFacts{FreeDiskBytes: 1 << 40, Relations: []domain.RelationFacts{
		{ObjectName: domain.ObjectName{Name: "t"}, Exists: true, Kind: "table", Rows: 5, Bytes: 8192, Columns: map[string]string{"x": "int"}},
		{ObjectName: domain.ObjectName{Name: "old"}, Exists: true, Kind: "index", Table: "t"},
	}}
	script := "CREATE INDEX CONCURRENTLY i ON t (x);\nDROP INDEX CONCURRENTLY i;\nCREATE INDEX CONCURRENTLY i ON t (x);\n" +
		"DROP INDEX CONCURRENTLY old;\nCREATE INDEX CONCURRENTLY old ON t (x);\nCREATE INDEX CONCURRENTLY i ON t (x);"
	r, err := postgres.Lint(script, lint.Options{Catalog: NewCatalog(facts)})
	if err != nil {
		t.Fatal(err)
	}
	got := issues(Judge(Input{Result: r, Facts: facts}).Errors)
	if want := []string{"name-exists i"}; !slices.Equal(got, want) {
		t.Errorf("errors = %q, want %q", got, want)
	}
}

func issues(is []api.ValidationIssue) []string {
	var out []string
	for _, i := range is {
		out = append(out, i.Rule+" "+i.Object)
	}
	return out
}
