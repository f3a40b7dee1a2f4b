package commands

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/internal/lint/offline"
)

func lintCommand() *cli.Command {
	return &cli.Command{
		Name:      "lint",
		Usage:     "judge migration files offline, with no server: findings, safe rewrites and the computed risk",
		ArgsUsage: "FILE...",
		UsageText: `hotswap lint [--engine postgresql|mysql|mariadb|sqlserver|oracle] [--target-version V] FILE...

Each file is read as one script on the engine's own parser. A finding gives
the rule, its line and column, what happens to the table and, where there is
one, a safe rewrite. Silence a rule on one statement with a comment that says
why:  -- hotswap:ignore rule-id reason
Exit status: 0 when no file has a warning or an error, 1 when one has (or a
file does not parse), 2 on bad arguments. -o json prints a bare array of
{file, rule, severity, line, column, message, rewrite, risk}, with one
"computed-risk" entry per file carrying its risk. - reads a script from stdin.

Examples:
  hotswap lint migrations/*.sql
  hotswap lint --engine mysql --target-version 8.0.23 -o json up.sql
  hotswap lint --engine sqlserver --target-version 2019 deploy.sql`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "engine", Value: "postgresql", Usage: "postgresql, mysql, mariadb, sqlserver or oracle"},
			&cli.StringFlag{Name: "target-version", Usage: "server version to judge against, e.g. 15, 8.0.23, \"MariaDB 10.11\" " +
				"(default: the file's `-- target:` first line, else PostgreSQL 15 / MySQL 8.0)"},
		},
		Action: lintFiles,
	}
}

func lintFiles(c *cli.Context) error {
	names := c.Args().Slice()
	if len(names) == 0 {
		return usageErr(c, "lint needs FILE...")
	}
	read := func(name string) ([]byte, error) {
		var raw []byte
		var err error
		if name == "-" {
			raw, err = io.ReadAll(c.App.Reader)
		} else {
			raw, err = os.ReadFile(name)
		}
		if err != nil {
			return nil, usagef("%v", err)
		}
		return raw, nil
	}
	files, err := offline.Lint(offline.Options{Engine: c.String("engine"), TargetVersion: c.String("target-version")}, names, read)
	if err != nil {
		return lintError(c, err)
	}
	write := offline.WriteText
	if p := newPrinter(c); p.isJSON() {
		write = func(_ io.Writer, files []offline.File) error {
			return p.encoded(func(w io.Writer) error { return offline.WriteJSON(w, files) })
		}
	}
	if err := write(c.App.Writer, files); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	if offline.Flagged(files) {
		return fmt.Errorf("%d of %d files have a warning or an error", flaggedFiles(files), len(files))
	}
	return nil
}

// lintError makes a bad flag a usage error; anything else (a script that
// does not parse) exits 1.
func lintError(c *cli.Context, err error) error {
	var ue *usageError
	if errors.As(err, &ue) {
		return err
	}
	if errors.Is(err, offline.ErrUnknownEngine) || errors.Is(err, offline.ErrTargetVersion) {
		return usageErr(c, "%v", err)
	}
	return err
}

func flaggedFiles(files []offline.File) int {
	n := 0
	for _, f := range files {
		if f.Result.Flagged() {
			n++
		}
	}
	return n
}
