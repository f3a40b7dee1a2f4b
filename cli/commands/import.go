package commands

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/cli/migrationdir"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// importResult is what "migration import" created, or would create.
type importResult struct {
	Format     string              `json:"format"`
	Database   string              `json:"database"` // id
	DryRun     bool                `json:"dryRun"`
	Migrations []importedMigration `json:"migrations"`
}

// importedMigration is one migration of an import.
type importedMigration struct {
	Version     uint64 `json:"version"`
	Name        string `json:"name"`
	UpFile      string `json:"upFile"`
	DownFile    string `json:"downFile"`
	DependsOn   string `json:"dependsOn,omitempty"`   // the previous migration's name
	MigrationID string `json:"migrationId,omitempty"` // empty in a dry run
}

func migrationImportCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "create the migrations of a golang-migrate, Flyway or goose folder, in order",
		ArgsUsage: "DIR",
		UsageText: `hotswap migration import DIR --database DB [--dry-run] [options]

Reads a folder of golang-migrate (NNN_name.up.sql / NNN_name.down.sql),
Flyway (V1__name.sql / U1__name.sql) or goose (NNN_name.sql with -- +goose Up
and -- +goose Down) migrations and creates one HotSwap migration per version,
oldest first, each depending on the one before (the first on --depends-on).
A folder whose numbering has gaps or duplicates, or a migration without a down
script, is refused with the list of problems and nothing is created.
Timestamp versions (20240101120000) need no sequence, only an order.

Examples:
  hotswap migration import ./migrations --database app --dry-run
  hotswap migration import ./db/migrations --database app --risk Low --tag imported`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "database", Aliases: []string{"db"}, Usage: "target database (id or name)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print what would be created; create nothing"},
			&cli.StringFlag{Name: "strategy", Usage: "strategy of every migration: one of " + list(domain.Strategies) + " (default Phased)"},
			&cli.StringFlag{Name: "risk", Usage: "risk of every migration: one of " + list(domain.RiskLevels) + " (default Medium)"},
			&cli.StringSliceFlag{Name: "tag", Usage: "tag of every migration (repeatable)"},
			&cli.StringSliceFlag{Name: "depends-on", Usage: "id of a migration the first one depends on (repeatable)"},
		},
		Action: migrationImport,
	}
}

func migrationImport(c *cli.Context) error {
	if err := needArgs(c, "DIR"); err != nil {
		return err
	}
	if err := requireFlags(c, "database"); err != nil {
		return err
	}
	set, err := migrationdir.Read(c.Args().First())
	var problems migrationdir.Problems
	switch {
	case errors.As(err, &problems):
		return fmt.Errorf("import %s: nothing was created: %w", c.Args().First(), err)
	case err != nil:
		return usageErr(c, "import %s: %v", c.Args().First(), err)
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	db, err := cl.GetDatabase(c.Context, c.String("database"))
	if err != nil {
		return fmt.Errorf("import: database %s: %w", c.String("database"), err)
	}
	res := importPlan(c, set, db.DatabaseID)
	if !res.DryRun {
		err = createImported(c, cl, set, &res)
	}
	if perr := newPrinter(c).show(res, func(p printer) error { return printImport(p, res) }); perr != nil {
		return perr
	}
	return err
}

// importPlan lists what the import creates, each migration depending on
// the one before.
func importPlan(c *cli.Context, set migrationdir.Set, dbID string) importResult {
	res := importResult{Format: set.Format, Database: dbID, DryRun: c.Bool("dry-run")}
	for i, m := range set.Migrations {
		im := importedMigration{Version: m.Version, Name: m.Name, UpFile: m.UpFile, DownFile: m.DownFile}
		if i > 0 {
			im.DependsOn = set.Migrations[i-1].Name
		}
		res.Migrations = append(res.Migrations, im)
	}
	return res
}

// createImported creates the migrations in order; it stops at the first
// the server refuses, saying which were created.
func createImported(c *cli.Context, cl *api.Client, set migrationdir.Set, res *importResult) error {
	deps := c.StringSlice("depends-on")
	for i, m := range set.Migrations {
		spec := domain.MigrationSpec{Name: m.Name, TargetDatabaseID: res.Database, MigrationScript: m.Up,
			RollbackScript: m.Down, Strategy: canonical(c.String("strategy"), domain.Strategies),
			RiskLevel: canonical(c.String("risk"), domain.RiskLevels), Tags: c.StringSlice("tag"), Dependencies: deps,
			Description: fmt.Sprintf("imported from %s (%s)", m.UpFile, set.Format)}
		created, err := cl.CreateMigration(c.Context, spec)
		if err != nil {
			res.Migrations = res.Migrations[:i]
			return fmt.Errorf("import: create %s (%s): %w; %d of %d created before it", m.Name, m.UpFile, err, i,
				len(set.Migrations))
		}
		res.Migrations[i].MigrationID = created.MigrationID
		deps = []string{created.MigrationID}
	}
	return nil
}

func printImport(p printer, res importResult) error {
	verb := "Created"
	if res.DryRun {
		verb = "Would create (dry run)"
	}
	p.linef("%s %d migration(s) of database %s from a %s folder:", verb, len(res.Migrations), res.Database, res.Format)
	p.linef("")
	rows := make([][]string, len(res.Migrations))
	for i, m := range res.Migrations {
		rows[i] = []string{strconv.FormatUint(m.Version, 10), m.Name, m.UpFile, m.DownFile, or(m.DependsOn), or(m.MigrationID)}
	}
	return p.table([]string{"VERSION", "NAME", "UP", "DOWN", "DEPENDS ON", "ID"}, rows)
}
