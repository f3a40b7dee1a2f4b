package mysql_test

import (
	"context"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

func TestInspect(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	m := testbed.StartMariaDB(t, testbed.MariaDBOptions{})
	c := open(t, m.DSN(testbed.MariaDBDatabase))
	for _, q := range []string{
		"CREATE DATABASE billing",
		"CREATE TABLE billing.Invoices (id bigint PRIMARY KEY, email varchar(100), state enum('open','paid'), total decimal(10,2), KEY inv_email_state (email(20), state))",
		"INSERT INTO billing.Invoices SELECT seq, CONCAT('u', seq), 'open', seq FROM seq_1_to_2500",
		"CREATE VIEW recent AS SELECT 1 AS x",
	} {
		if _, err := c.DB().ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var insp dialect.Inspector = c
	facts, err := insp.Inspect(ctx, domain.CatalogRequest{WriteWindowMs: 50, Relations: []domain.ObjectName{
		{Schema: "billing", Name: "Invoices"}, {Name: "recent"}, {Name: "missing"}, {Schema: "billing", Name: "invoices"},
		{Schema: "billing", Name: "inv_email_state"},
	}})
	if err != nil {
		t.Fatalf("Inspect() error = %v", err)
	}
	if len(facts.Relations) != 5 {
		t.Fatalf("relations = %+v, want one per name asked", facts.Relations)
	}
	inv := facts.Relations[0]
	if !inv.Exists || inv.Kind != "table" || inv.Rows != 2500 || inv.Bytes < 16384 || inv.ResolvedSchema != "billing" ||
		inv.Columns["email"] != "varchar(100)" || inv.Columns["state"] != "enum('open','paid')" {
		t.Errorf("Invoices = %+v, want a table of 2500 rows (small: counted) with its column types", inv)
	}
	if len(inv.Indexes) != 2 || inv.Indexes[0].Name != "inv_email_state" || inv.Indexes[0].Unique ||
		len(inv.Indexes[0].Columns) != 2 || inv.Indexes[0].Columns[0] != "email(20)" || inv.Indexes[0].Columns[1] != "state" ||
		inv.Indexes[1].Name != "PRIMARY" || !inv.Indexes[1].Unique || !inv.Indexes[1].Valid {
		t.Errorf("indexes = %+v, want the prefix index and the primary key with their key columns", inv.Indexes)
	}
	if inv.WritesPerSecond < 0 {
		t.Errorf("writes per second = %v, want a measured rate (performance_schema is on)", inv.WritesPerSecond)
	}
	if v := facts.Relations[1]; !v.Exists || v.Kind != "view" || v.ResolvedSchema != testbed.MariaDBDatabase {
		t.Errorf("recent = %+v, want a view resolved in the connection's database", v)
	}
	if r := facts.Relations[2]; r.Exists {
		t.Errorf("missing = %+v, want it reported as not existing", r)
	}
	if r := facts.Relations[3]; r.Exists {
		t.Errorf("invoices = %+v, want not existing: lower_case_table_names=0 tells Invoices apart", r)
	}
	if r := facts.Relations[4]; r.Exists {
		t.Errorf("index name = %+v, want not a relation (MySQL index names belong to their table)", r)
	}
	if facts.FreeDiskBytes <= 0 {
		t.Errorf("free disk = %d, want the free space of @@datadir", facts.FreeDiskBytes)
	}
	t.Run("WriteRate", func(t *testing.T) { testInspectWriteRate(t, c, m) })
	t.Run("BoundedByMetadataLock", func(t *testing.T) { testInspectBounded(t, c, m) })
}

// testInspectWriteRate: writes made while the window is open show up in
// the rate.
func testInspectWriteRate(t *testing.T, c dialect.Inspector, m *testbed.MariaDB) {
	writer := openDB(t, m.DSN(testbed.MariaDBDatabase))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ctx.Err() == nil; i++ {
			_, _ = writer.ExecContext(ctx, "UPDATE billing.Invoices SET total = total + 1 WHERE id = ?", i%2500+1)
		}
	}()
	facts, err := c.Inspect(t.Context(), domain.CatalogRequest{WriteWindowMs: 500,
		Relations: []domain.ObjectName{{Schema: "billing", Name: "Invoices"}}})
	cancel()
	<-done
	if err != nil || facts.Relations[0].WritesPerSecond <= 0 {
		t.Errorf("Inspect() = %+v, %v; want a positive write rate while updates run", facts.Relations, err)
	}
}

// testInspectBounded: a table whose metadata lock is held exclusively
// (LOCK TABLES ... WRITE) makes the look-up give up within its
// lock_wait_timeout instead of queueing.
func testInspectBounded(t *testing.T, c dialect.Inspector, m *testbed.MariaDB) {
	holder := connect(t, m.DSN(testbed.MariaDBDatabase))
	if _, err := holder.ExecContext(t.Context(), "LOCK TABLES billing.Invoices WRITE"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = holder.ExecContext(context.Background(), "UNLOCK TABLES") })
	start := time.Now()
	facts, err := c.Inspect(t.Context(), domain.CatalogRequest{Relations: []domain.ObjectName{{Schema: "billing", Name: "Invoices"}}})
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("Inspect() took %v behind a held lock, want it bounded by lock_wait_timeout", took)
	}
	if err != nil || !facts.Relations[0].Exists || facts.Relations[0].Columns == nil {
		t.Errorf("Inspect() behind a held lock = %+v, %v; want the table described, its row count left to the estimate", facts.Relations, err)
	}
}
