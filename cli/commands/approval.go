package commands

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// approvalCommands are the migration subcommands of the approval workflow.
func approvalCommands() []*cli.Command {
	return []*cli.Command{
		{
			Name:      "submit",
			Usage:     "submit a migration for approval: the approvers are notified (webhooks)",
			ArgsUsage: "ID",
			UsageText: `hotswap migration submit ID [--notes TEXT]

Examples:
  hotswap migration submit mig-7f8a9b1c --notes "needed for Friday's release"`,
			Flags:  []cli.Flag{&cli.StringFlag{Name: "notes", Usage: "a note for the approvers"}},
			Action: migrationSubmit,
		},
		{
			Name:      "approve",
			Usage:     "approve a migration (Admin or DBA, not its author)",
			ArgsUsage: "ID",
			UsageText: `hotswap migration approve ID [--notes TEXT]

Examples:
  hotswap migration approve mig-7f8a9b1c --notes "reviewed, index built concurrently"`,
			Flags:  []cli.Flag{&cli.StringFlag{Name: "notes", Usage: "what the approver checked"}},
			Action: migrationApprove,
		},
		{
			Name:      "reject",
			Usage:     "reject a migration, with a reason; it cannot run until changed",
			ArgsUsage: "ID",
			UsageText: `hotswap migration reject ID --reason TEXT

Examples:
  hotswap migration reject mig-7f8a9b1c --reason "rewrites the orders table at peak time"`,
			Flags:  []cli.Flag{&cli.StringFlag{Name: "reason", Required: true, Usage: "why (required)"}},
			Action: migrationReject,
		},
		{
			Name:      "approvals",
			Usage:     "show what a migration needs before it runs and the decisions on it",
			ArgsUsage: "ID",
			UsageText: `hotswap migration approvals ID

Examples:
  hotswap migration approvals mig-7f8a9b1c
  hotswap migration approvals mig-7f8a9b1c -o json | jq .missing`,
			Action: migrationApprovals,
		},
	}
}

func migrationSubmit(c *cli.Context) error {
	if err := needArgs(c, "ID"); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	res, err := cl.SubmitApproval(c.Context, c.Args().First(), api.SubmitApprovalRequest{Notes: c.String("notes")})
	if err != nil {
		return fmt.Errorf("submit migration: %w", err)
	}
	return newPrinter(c).show(res, func(p printer) error {
		p.linef("Migration %s submitted for approval: %s (approvals given now hold until %s).", res.MigrationID, res.Status,
			when(res.ExpiresAt))
		p.linef("%s", approvalSummary(res.ApprovalStatus))
		return nil
	})
}

func migrationApprove(c *cli.Context) error {
	return decideMigration(c, func(cl *api.Client, id string) (api.DecisionResponse, error) {
		return cl.ApproveMigration(c.Context, id, api.ApproveRequest{Notes: c.String("notes")})
	})
}

func migrationReject(c *cli.Context) error {
	return decideMigration(c, func(cl *api.Client, id string) (api.DecisionResponse, error) {
		return cl.RejectMigration(c.Context, id, api.RejectRequest{Reason: c.String("reason")})
	})
}

func decideMigration(c *cli.Context, call func(*api.Client, string) (api.DecisionResponse, error)) error {
	if err := needArgs(c, "ID"); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	d, err := call(cl, c.Args().First())
	if err != nil {
		return fmt.Errorf("%s migration: %w", c.Command.Name, err)
	}
	return newPrinter(c).show(d, func(p printer) error {
		p.linef("Migration %s: %s by %s.", d.MigrationID, d.Status, d.ReviewedBy)
		p.linef("%s", approvalSummary(d.Approvals))
		return nil
	})
}

func migrationApprovals(c *cli.Context) error {
	if err := needArgs(c, "ID"); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	st, err := cl.MigrationApprovals(c.Context, c.Args().First())
	if err != nil {
		return fmt.Errorf("migration approvals: %w", err)
	}
	return newPrinter(c).show(st, func(p printer) error {
		p.linef("%s", approvalSummary(st.ApprovalStatus))
		rows := make([][]string, 0, len(st.Approvals))
		for _, a := range st.Approvals {
			rows = append(rows, []string{when(a.At), a.Approver, string(a.Role), string(a.Decision), or(a.Notes)})
		}
		return p.table([]string{"AT", "BY", "ROLE", "DECISION", "NOTES"}, rows)
	})
}

// approvalSummary is one line on where a migration stands.
func approvalSummary(st domain.ApprovalStatus) string {
	switch {
	case st.Required == 0 && !st.Rejected:
		return "No approval needed for its risk and environment."
	case st.Satisfied:
		return fmt.Sprintf("Approved: %d of %d approvals; it may run.", st.Valid, st.Required)
	}
	return "Not yet runnable: " + st.Missing + "."
}
