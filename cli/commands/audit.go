package commands

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/internal/api"
)

func auditFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "user", Aliases: []string{"actor"}, Usage: "only entries of this user or token (system: the control plane's own)"},
		&cli.StringFlag{Name: "type", Aliases: []string{"action"}, Usage: "only this event type, e.g. login, create_migration, decide_migration"},
		&cli.StringFlag{Name: "migration", Usage: "only entries about this migration and its executions"},
		&cli.StringFlag{Name: "database", Usage: "only entries about this database (id or name), its migrations and their executions"},
		&cli.StringFlag{Name: "target", Usage: "only entries about exactly this id or name"},
		&cli.TimestampFlag{Name: "since", Layout: time.RFC3339, Usage: "only entries at or after this time (RFC 3339)"},
		&cli.TimestampFlag{Name: "until", Layout: time.RFC3339, Usage: "only entries before this time (RFC 3339)"},
	}
}

func auditQuery(c *cli.Context) api.AuditQuery {
	q := api.AuditQuery{User: c.String("user"), Type: c.String("type"), Target: c.String("target"),
		Migration: c.String("migration"), Database: c.String("database"), Limit: c.Int("limit"), Offset: c.Int("offset")}
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
				UsageText: `hotswap audit list [--user U] [--type T] [--migration ID] [--database DB] [--since T] [--until T]

Searches GET /api/v1/audit-log; every filter given must match.

Examples:
  hotswap audit list --migration mig-7f8a9b1c
  hotswap audit list --database orders --type create_execution
  hotswap audit list --user dana@example.com --since 2026-01-01T00:00:00Z --limit 50 --offset 50`,
				Flags: append(auditFlags(), &cli.IntFlag{Name: "limit", Value: 100, Usage: "at most this many (1-1000)"},
					&cli.IntFlag{Name: "offset", Usage: "skip this many"}),
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

The entries are written as the server streams them.

Examples:
  hotswap audit export --format csv > audit.csv
  hotswap audit export --migration mig-7f8a9b1c > mig-7f8a9b1c.jsonl`,
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
	l, err := cl.ListAudit(c.Context, auditQuery(c))
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
	if err := cl.StreamAudit(c.Context, c.String("format"), auditQuery(c), c.App.Writer); err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	return nil
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
