package commands

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/internal/api"
)

// execArgsUsage is how an execution is named on the command line: by its
// id or a unique prefix of it, the migration (id, name or short id) first
// when wanted.
const execArgsUsage = "[MIGRATION] EXECUTION"

// executionRef reads the execution an action addresses: "EXECUTION" (a
// full id or a unique prefix, resolved by the server) or the older
// "MIGRATION EXECUTION". It returns the full ids when it looked them up.
func executionRef(c *cli.Context, cl *api.Client) (migID, execID string, err error) {
	if err := checkExecArgs(c); err != nil {
		return "", "", err
	}
	args := c.Args().Slice()
	if len(args) == 2 {
		return args[0], args[1], nil
	}
	e, err := cl.FindExecution(c.Context, args[0])
	if err != nil {
		return "", "", fmt.Errorf("find execution %s: %w", args[0], err)
	}
	return e.MigrationID, e.ExecutionID, nil
}

// checkExecArgs refuses a command line that does not name one execution.
func checkExecArgs(c *cli.Context) error {
	args := c.Args().Slice()
	switch len(args) {
	case 1, 2:
		return nil
	case 0:
		return usageErr(c, "%s needs EXECUTION (its id or a unique prefix of it)", cmdName(c))
	}
	return usageErr(c, "%s takes %s only; unexpected: %s", cmdName(c), execArgsUsage, strings.Join(args[2:], " "))
}

// cmdName is the command's path without the program's name.
func cmdName(c *cli.Context) string { return strings.TrimPrefix(helpName(c), c.App.Name+" ") }
