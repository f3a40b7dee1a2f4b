package commands

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

func migrationValidate(c *cli.Context) error {
	if err := needArgs(c, "ID|NAME"); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	id, err := resolveMigration(c, cl, c.Args().First())
	if err != nil {
		return fmt.Errorf("validate migration: %w", err)
	}
	r, err := cl.ValidateMigration(c.Context, id, api.ValidateRequest{DryRun: true})
	if err != nil {
		return fmt.Errorf("validate migration: %w", err)
	}
	if err := newPrinter(c).show(r, func(p printer) error { return printValidation(p, r) }); err != nil {
		return err
	}
	if !r.IsValid {
		return fmt.Errorf("migration %s is not valid: %d errors", c.Args().First(), len(r.Errors))
	}
	return nil
}

// resolveMigration takes a migration id, or the name of one (of --database
// when given).
func resolveMigration(c *cli.Context, cl *api.Client, arg string) (string, error) {
	m, err := cl.GetMigration(c.Context, arg)
	if err == nil {
		return m.MigrationID, nil
	}
	if !errors.Is(err, api.ErrNotFound) {
		return "", err
	}
	l, lerr := cl.ListMigrations(c.Context, api.ListMigrationsRequest{Database: c.String("database"), Limit: 1000})
	if lerr != nil {
		return "", lerr
	}
	var ids []string
	for _, s := range l.Migrations {
		if s.Name == arg {
			ids = append(ids, s.MigrationID)
		}
	}
	switch len(ids) {
	case 0:
		return "", err
	case 1:
		return ids[0], nil
	}
	return "", usageErr(c, "%d databases have a migration named %s: give --database", len(ids), arg)
}

func printValidation(p printer, r api.ValidateResponse) error {
	verdict := "valid"
	if !r.IsValid {
		verdict = "NOT valid"
	}
	how := "live, from the catalog of " + r.Instance
	if !r.Live {
		how = "static: " + r.LiveReason
	}
	err := p.fields(field{"Verdict", verdict}, field{"Checked", how}, field{"Computed risk", orDash(string(r.ComputedRisk))},
		field{"Estimated duration", fmt.Sprintf("%ds (an estimate from table sizes)", r.EstimatedDuration)},
		field{"Disk", diskText(r)}, field{"Replica lag", fmt.Sprintf("%.1fs at most", r.MaxReplicationLagSeconds)},
		field{"Conflicts", list(r.DependencyCheck.Conflicts)})
	if err != nil {
		return err
	}
	for _, group := range []struct {
		title  string
		issues []api.ValidationIssue
	}{{"Errors", r.Errors}, {"Warnings", r.Warnings}} {
		if len(group.issues) == 0 {
			continue
		}
		p.linef("\n%s:", group.title)
		for _, i := range group.issues {
			p.linef("  %s%s: %s", where(i.Line, i.Column), i.Rule, i.Message)
			if i.Recommendation != "" {
				p.linef("    %s", strings.ReplaceAll(i.Recommendation, "\n", "\n      "))
			}
		}
	}
	p.linef("\nAffected objects:")
	for _, o := range r.DependencyCheck.AffectedObjects {
		p.linef("  %s", o)
	}
	return nil
}

func diskText(r api.ValidateResponse) string {
	if r.FreeDiskBytes == domain.UnknownSize {
		return fmt.Sprintf("needs about %d bytes; free space unknown", r.RequiredDiskBytes)
	}
	return fmt.Sprintf("needs about %d bytes of %d free", r.RequiredDiskBytes, r.FreeDiskBytes)
}

func where(line, col int) string {
	if line == 0 {
		return ""
	}
	return fmt.Sprintf("line %d:%d ", line, col)
}

// printFindings prints a migration's findings and the ones its ignore
// comments silenced, with their reasons.
func printFindings(p printer, findings, ignored []domain.LintFinding) {
	if len(findings) == 0 && len(ignored) == 0 {
		return
	}
	p.linef("\nFindings:")
	for _, f := range findings {
		p.linef("  line %d:%d %s %s: %s", f.Line, f.Column, f.Severity, f.Rule, f.Message)
		if f.Rewrite != "" {
			p.linef("    safe rewrite:\n      %s", strings.ReplaceAll(f.Rewrite, "\n", "\n      "))
		}
	}
	for _, f := range ignored {
		p.linef("  line %d:%d ignored %s: %s", f.Line, f.Column, f.Rule, f.IgnoreReason)
	}
}
