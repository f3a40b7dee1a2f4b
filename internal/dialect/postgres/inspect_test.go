package postgres_test

import (
	"testing"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

func TestInspect(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p := testbed.StartPostgres(t, testbed.PostgresOptions{})
	c := open(t, p.DSN("app"))
	if _, err := c.Pool().Exec(ctx, `CREATE SCHEMA billing;
		CREATE TABLE billing.invoices (id bigint PRIMARY KEY, email varchar(100), total numeric(10,2));
		INSERT INTO billing.invoices SELECT g, 'u' || g, g FROM generate_series(1, 2500) g;
		CREATE INDEX invoices_lower_email ON billing.invoices (lower(email));
		CREATE VIEW recent AS SELECT 1 AS x`); err != nil {
		t.Fatal(err)
	}
	var insp dialect.Inspector = c
	facts, err := insp.Inspect(ctx, domain.CatalogRequest{WriteWindowMs: 50, Relations: []domain.ObjectName{
		{Schema: "billing", Name: "invoices"}, {Name: "recent"}, {Name: "missing"}, {Schema: "billing", Name: "invoices_lower_email"},
	}})
	if err != nil {
		t.Fatalf("Inspect() error = %v", err)
	}
	if len(facts.Relations) != 4 {
		t.Fatalf("relations = %+v, want one per name asked", facts.Relations)
	}
	inv := facts.Relations[0]
	if !inv.Exists || inv.Kind != "table" || inv.Rows != 2500 || inv.Bytes <= 8192 || inv.Columns["email"] != "character varying(100)" {
		t.Errorf("invoices = %+v, want a table of 2500 rows (never analysed: counted) with its column types", inv)
	}
	if len(inv.Indexes) != 2 || inv.Indexes[0].Name != "invoices_lower_email" || inv.Indexes[0].Columns[0] != "lower(email::text)" ||
		!inv.Indexes[1].Unique || inv.Indexes[1].Columns[0] != "id" {
		t.Errorf("indexes = %+v, want the expression index and the primary key with their key columns", inv.Indexes)
	}
	if inv.WritesPerSecond < 0 {
		t.Errorf("writes per second = %v, want a measured rate", inv.WritesPerSecond)
	}
	if v := facts.Relations[1]; !v.Exists || v.Kind != "view" || v.ResolvedSchema != "public" {
		t.Errorf("recent = %+v, want a view resolved in public", v)
	}
	if m := facts.Relations[2]; m.Exists {
		t.Errorf("missing = %+v, want it reported as not existing", m)
	}
	if ix := facts.Relations[3]; !ix.Exists || ix.Kind != "index" || ix.Table != "invoices" {
		t.Errorf("index = %+v, want an index of invoices", ix)
	}
	if facts.FreeDiskBytes <= 0 {
		t.Errorf("free disk = %d, want the free space of the data directory (the test role is a superuser)", facts.FreeDiskBytes)
	}
}
