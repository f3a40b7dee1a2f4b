package commands

import (
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// retryRollbackCommand is `hotswap execution retry-rollback`.
func retryRollbackCommand() *cli.Command {
	return &cli.Command{
		Name:      "retry-rollback",
		Usage:     "run the failed rollback steps of a Failed execution again, once the cause is fixed",
		ArgsUsage: execArgsUsage,
		UsageText: `hotswap execution retry-rollback [MIGRATION] EXECUTION [--reason TEXT]

The execution takes its database's lock again and runs the rollback steps that
failed; a step resumes after the statements it already completed. Follow it
with 'hotswap execution watch'.

Examples:
  hotswap execution retry-rollback 0c1d2e3f \
    --reason "the report holding the table was stopped"`,
		Flags:  []cli.Flag{&cli.StringFlag{Name: "reason", Usage: "what was fixed, for the execution's log"}},
		Action: executionRetryRollback,
	}
}

// resolveCommand is `hotswap execution resolve`.
func resolveCommand() *cli.Command {
	return &cli.Command{
		Name:      "resolve",
		Usage:     "mark a Failed execution resolved: the database was put right by hand",
		ArgsUsage: execArgsUsage,
		UsageText: `hotswap execution resolve [MIGRATION] EXECUTION --reason TEXT

Examples:
  hotswap execution resolve 0c1d2e3f \
    --reason "dropped column nick2 by hand"`,
		Flags:  []cli.Flag{&cli.StringFlag{Name: "reason", Usage: "what was put right, for the execution's log (required)"}},
		Action: executionResolve,
	}
}

func executionRetryRollback(c *cli.Context) error {
	return pauseOrResume(c, "retry the rollback of", func(cl *api.Client, migID, execID string) (domain.Execution, error) {
		return cl.RetryRollback(c.Context, migID, execID, strings.TrimSpace(c.String("reason")))
	})
}

func executionResolve(c *cli.Context) error {
	if strings.TrimSpace(c.String("reason")) == "" {
		return usageErr(c, "--reason is required: say what was put right")
	}
	return pauseOrResume(c, "resolve", func(cl *api.Client, migID, execID string) (domain.Execution, error) {
		return cl.ResolveExecution(c.Context, migID, execID, strings.TrimSpace(c.String("reason")))
	})
}
