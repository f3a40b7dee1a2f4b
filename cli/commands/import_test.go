package commands

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// writeIn writes content to name in dir.
func writeIn(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// migrationsOf lists the migrations of a database, oldest first.
func migrationsOf(t *testing.T, db string) []api.MigrationSummary {
	t.Helper()
	return decode[api.MigrationList](t, mustHS(t, "-o", "json", "migration", "list", "--database", db, "--limit", "100")).Migrations
}

func TestImportGolangMigrate(t *testing.T) {
	registerDatabase(t, "imp-host", "imp_db")
	dir := t.TempDir()
	writeIn(t, dir, "000001_create_users.up.sql", "CREATE TABLE users (id bigint PRIMARY KEY);\n")
	writeIn(t, dir, "000001_create_users.down.sql", "DROP TABLE users;\n")
	writeIn(t, dir, "000002_add_email.up.sql", "ALTER TABLE users ADD COLUMN email text;\n")
	writeIn(t, dir, "000002_add_email.down.sql", "ALTER TABLE users DROP COLUMN email;\n")
	writeIn(t, dir, "000003_add_name.up.sql", "ALTER TABLE users ADD COLUMN name text;\n")
	writeIn(t, dir, "000003_add_name.down.sql", "ALTER TABLE users DROP COLUMN name;\n")

	out := mustHS(t, "migration", "import", dir, "--database", "imp_db", "--dry-run")
	wantContains(t, "dry run", out, "Would create (dry run) 3 migration(s)", "golang-migrate", "000001_create_users",
		"000003_add_name.up.sql", "000002_add_email")
	if got := migrationsOf(t, "imp_db"); len(got) != 0 {
		t.Fatalf("a dry run created %d migrations", len(got))
	}

	res := decode[importResult](t, mustHS(t, "-o", "json", "migration", "import", dir, "--database", "imp_db", "--risk", "Low"))
	if len(res.Migrations) != 3 || res.DryRun || res.Format != "golang-migrate" {
		t.Fatalf("import = %+v, want 3 migrations created", res)
	}
	got := migrationsOf(t, "imp_db")
	if len(got) != 3 {
		t.Fatalf("migrations after the import = %d, want 3", len(got))
	}
	var prev string
	for i, want := range []string{"000001_create_users", "000002_add_email", "000003_add_name"} {
		m := decode[domain.Migration](t, mustHS(t, "-o", "json", "migration", "show", res.Migrations[i].MigrationID))
		if m.Name != want || got[i].Name != want || m.RiskLevel != domain.RiskLow {
			t.Errorf("migration %d = %s (%s), want %s, Low, in that order", i, m.Name, m.RiskLevel, want)
		}
		if wantDeps := []string{prev}; prev != "" && (len(m.Dependencies) != 1 || m.Dependencies[0] != prev) {
			t.Errorf("%s depends on %v, want %v", m.Name, m.Dependencies, wantDeps)
		}
		if i == 0 && len(m.Dependencies) != 0 {
			t.Errorf("the first migration depends on %v, want nothing", m.Dependencies)
		}
		prev = m.MigrationID
	}
}

func TestImportRefusesGapsAndDuplicates(t *testing.T) {
	registerDatabase(t, "imp-bad-host", "imp_bad_db")
	dir := t.TempDir()
	for _, n := range []string{"1_a", "2_b", "4_d"} {
		writeIn(t, dir, n+".up.sql", "CREATE TABLE "+n[2:]+" (id int);")
		writeIn(t, dir, n+".down.sql", "DROP TABLE "+n[2:]+";")
	}
	writeIn(t, dir, "02_again.up.sql", "CREATE TABLE again (id int);")
	writeIn(t, dir, "02_again.down.sql", "DROP TABLE again;")
	r := hs(t, "migration", "import", dir, "--database", "imp_bad_db")
	if r.code != ExitError || r.stdout != "" {
		t.Errorf("exit %d, stdout %q; want %d and nothing printed", r.code, r.stdout, ExitError)
	}
	wantContains(t, "stderr", r.stderr, "nothing was created", "the folder cannot be imported",
		"version 2 is used more than once: 02_again.down.sql, 02_again.up.sql, 2_b.down.sql, 2_b.up.sql",
		"gap in the numbering: version 4 (4_d.up.sql) follows 2 (02_again.up.sql); missing 3")
	if got := migrationsOf(t, "imp_bad_db"); len(got) != 0 {
		t.Errorf("a refused import created %d migrations", len(got))
	}
}

func TestImportFlywayAndGoose(t *testing.T) {
	registerDatabase(t, "imp-fw-host", "imp_fw_db")
	fw := t.TempDir()
	writeIn(t, fw, "V1__Create_Orders.sql", "CREATE TABLE orders (id int);")
	writeIn(t, fw, "U1__Create_Orders.sql", "DROP TABLE orders;")
	writeIn(t, fw, "V2__Add_Note.sql", "ALTER TABLE orders ADD COLUMN note text;")
	writeIn(t, fw, "U2__Add_Note.sql", "ALTER TABLE orders DROP COLUMN note;")
	res := decode[importResult](t, mustHS(t, "-o", "json", "migration", "import", fw, "--database", "imp_fw_db"))
	if res.Format != "flyway" || len(res.Migrations) != 2 || res.Migrations[1].Name != "2_add_note" || res.Migrations[1].DependsOn != "1_create_orders" {
		t.Fatalf("flyway import = %+v", res)
	}

	goose := t.TempDir()
	writeIn(t, goose, "20240101000000_items.sql", "-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE items (id int);\n-- +goose StatementEnd\n-- +goose Down\nDROP TABLE items;\n")
	res = decode[importResult](t, mustHS(t, "-o", "json", "migration", "import", goose, "--database", "imp_fw_db",
		"--depends-on", res.Migrations[1].MigrationID))
	if res.Format != "goose" || len(res.Migrations) != 1 {
		t.Fatalf("goose import = %+v", res)
	}
	m := decode[domain.Migration](t, mustHS(t, "-o", "json", "migration", "show", res.Migrations[0].MigrationID))
	if m.MigrationScript != "CREATE TABLE items (id int);\n" || m.RollbackScript != "DROP TABLE items;\n" || len(m.Dependencies) != 1 {
		t.Errorf("goose migration = up %q, down %q, deps %v; want the Up and Down sections, after the Flyway ones",
			m.MigrationScript, m.RollbackScript, m.Dependencies)
	}
}
