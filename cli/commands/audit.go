package commands

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/internal/api"
)

func auditFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "actor", Usage: "only entries of this user or token (system: the control plane's own)"},
		&cli.StringFlag{Name: "action", Usage: "only this action, e.g. decide_migration, create_execution"},
		&cli.StringFlag{Name: "target", Usage: "only entries about this id or name"},
		&cli.TimestampFlag{Name: "since", Layout: time.RFC3339, Usage: "only entries at or after this time (RFC 3339)"},
		&cli.TimestampFlag{Name: "until", Layout: time.RFC3339, Usage: "only entries before this time (RFC 3339)"},
	}
}

func auditQuery(c *cli.Context) api.AuditQuery {
	q := api.AuditQuery{Actor: c.String("actor"), Action: c.String("action"), Target: c.String("target"),
		Limit: c.Int("limit"), Offset: c.Int("offset")}
	if t := c.Timestamp("since"); t != nil {
		q.Since = *t
	}
	if t := c.Timestamp("until"); t != nil {
		q.Until = *t
	}
	return q
}

func auditCommand() *cli.Command {
	return &cli.Command{
		Name:  "audit",
		Usage: "read, export and verify the audit log (Admin, DBA)",
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list audit entries, oldest first",
				UsageText: `hotswap audit list [--actor U] [--action A] [--target ID] [--since T] [--until T]

Examples:
  hotswap audit list --target mig-7f8a9b1c
  hotswap audit list --actor dana@example.com --since 2026-01-01T00:00:00Z`,
				Flags: append(auditFlags(), &cli.IntFlag{Name: "limit", Value: 100, Usage: "at most this many (1-1000)"},
					&cli.IntFlag{Name: "offset", Usage: "skip this many"},
					&cli.StringFlag{Name: "migration", Usage: "only entries about this migration and its executions"}),
				Action: auditList,
			},
			{
				Name:  "archive",
				Usage: "move entries older than the cluster's retention period (default 1 year) to a file (Admin)",
				UsageText: `hotswap audit archive --file FILE [--before TIME]

The entries before TIME are exported, their hash chain checked, written to
FILE (JSON lines, mode 0600, never overwritten), and only then dropped from the
cluster, which keeps the last archived entry's hash so the chain still verifies.

Examples:
  hotswap audit archive --file audit-2025.jsonl --before 2026-01-01T00:00:00Z`,
				Flags: []cli.Flag{&cli.StringFlag{Name: "file", Required: true, TakesFile: true, Usage: "the archive to write (must not exist)"},
					&cli.TimestampFlag{Name: "before", Layout: time.RFC3339, Usage: "archive the entries before this time (default: one year ago)"}},
				Action: auditArchive,
			},
			{
				Name:  "export",
				Usage: "print every matching entry as JSON lines or CSV",
				UsageText: `hotswap audit export [--format jsonl|csv] [filters]

Examples:
  hotswap audit export --format csv > audit.csv`,
				Flags:  append(auditFlags(), &cli.StringFlag{Name: "format", Value: "jsonl", Usage: "jsonl or csv"}),
				Action: auditExport,
			},
			{
				Name:  "verify",
				Usage: "check the audit log's hash chain",
				UsageText: `hotswap audit verify

Examples:
  hotswap audit verify`,
				Action: auditVerify,
			},
		},
	}
}

func auditList(c *cli.Context) error {
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	var l api.AuditList
	if id := c.String("migration"); id != "" {
		l, err = cl.MigrationAudit(c.Context, id, c.Int("limit"), c.Int("offset"))
	} else {
		l, err = cl.ListAudit(c.Context, auditQuery(c))
	}
	if err != nil {
		return fmt.Errorf("audit list: %w", err)
	}
	return newPrinter(c).show(l, func(p printer) error {
		rows := make([][]string, 0, len(l.Entries))
		for _, e := range l.Entries {
			rows = append(rows, []string{fmt.Sprint(e.Seq), when(e.At), e.Actor, or(e.Role), e.Action, or(e.Target), e.Outcome})
		}
		return p.table([]string{"SEQ", "AT", "ACTOR", "ROLE", "ACTION", "TARGET", "OUTCOME"}, rows)
	})
}

func auditExport(c *cli.Context) error {
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	body, err := cl.ExportAudit(c.Context, c.String("format"), auditQuery(c))
	if err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	_, err = c.App.Writer.Write(body)
	return err
}

func auditVerify(c *cli.Context) error {
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	v, err := cl.VerifyAudit(c.Context)
	if err != nil {
		return fmt.Errorf("audit verify: %w", err)
	}
	if err := newPrinter(c).show(v, func(p printer) error {
		if v.Valid {
			p.linef("Audit log intact: %d entries, every hash and link checked.", v.Entries)
		} else {
			p.linef("Audit log BROKEN at entry %d of %d: an entry was changed or removed.", v.BrokenAt, v.Entries)
		}
		return nil
	}); err != nil {
		return err
	}
	if !v.Valid {
		return fmt.Errorf("audit verify: the chain breaks at entry %d", v.BrokenAt)
	}
	return nil
}
