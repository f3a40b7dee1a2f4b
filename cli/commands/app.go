// Package commands is the hotswap CLI: one file per command group (cluster,
// agent, database, migration, execution), built into a urfave/cli app by
// NewApp and run by Run. Every command talks to the control plane through
// the typed client of internal/api.
package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/internal/api"
)

// Exit codes of Run.
const (
	ExitOK    = 0
	ExitError = 1 // the request failed, or the API refused it
	ExitUsage = 2 // bad arguments or flags: nothing was sent
)

// usageError is a mistake in the command line, found before any request.
type usageError struct {
	msg string
	cmd string // the command whose --help to suggest; empty: none
}

func (e *usageError) Error() string { return e.msg }

// usagef is a usage error that needs no pointer to --help.
func usagef(format string, a ...any) error { return &usageError{msg: fmt.Sprintf(format, a...)} }

// usageErr is a usage error of the running command: the message points to
// its --help.
func usageErr(c *cli.Context, format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...), cmd: helpName(c)}
}

// NewApp builds the hotswap app, writing output to stdout and messages to
// stderr. It holds no state outside the returned app.
func NewApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:     "hotswap",
		HelpName: "hotswap",
		Usage:    "manage HotSwap: agents, databases and schema migrations",
		UsageText: `hotswap [global options] COMMAND [command options] [arguments...]

Examples:
  export HOTSWAP_ADDR=http://10.0.0.1:5000 HOTSWAP_TOKEN=$(cat hotswap-data/bootstrap-token)
  hotswap cluster status
  hotswap -o json migration list --database app`,
		Version:        "dev",
		Writer:         stdout,
		ErrWriter:      stderr,
		Flags:          globalFlags(),
		Before:         checkGlobalFlags,
		Action:         groupAction,
		ExitErrHandler: func(*cli.Context, error) {}, // Run reports errors; never os.Exit
		// Label values and SQL file names may hold commas: repeat the flag instead.
		DisableSliceFlagSeparator: true,
		Commands: []*cli.Command{
			clusterCommand(), agentCommand(), databaseCommand(), migrationCommand(), executionCommand(), lintCommand(),
			versionCommand(), completionCommand(),
			loginCommand(), userCommand(), tokenCommand(), auditCommand(), operatorCommand(), tlsCommand(),
		},
		EnableBashCompletion: true,
	}
	app.OnUsageError = onUsageError
	forEachCommand(app.Commands, func(c *cli.Command) {
		c.OnUsageError = onUsageError
		if len(c.Subcommands) > 0 && c.Action == nil {
			c.Action = groupAction
		}
	})
	return app
}

func globalFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "address", Aliases: []string{"a"}, Value: "https://127.0.0.1:5000", EnvVars: []string{"HOTSWAP_ADDR"},
			Usage: "HTTP API of any control plane server: an https:// URL (http:// for a server run with --plaintext) or host:port"},
		&cli.StringFlag{Name: "token", EnvVars: []string{"HOTSWAP_TOKEN"}, Usage: "API token"},
		&cli.StringFlag{Name: "token-file", EnvVars: []string{"HOTSWAP_TOKEN_FILE"}, TakesFile: true,
			Usage: "read the API token from this file (wins over --token)"},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: formatTable, Usage: "output format: table, json or yaml"},
	}, tlsClientFlags()...)
}

func checkGlobalFlags(c *cli.Context) error {
	if f := c.String("output"); !slices.Contains(formats(), f) {
		return usageErr(c, "--output %q: want table, json or yaml", f)
	}
	return nil
}

// forEachCommand calls fn on every command of the tree, depth first.
func forEachCommand(cmds []*cli.Command, fn func(*cli.Command)) {
	for _, c := range cmds {
		fn(c)
		forEachCommand(c.Subcommands, fn)
	}
}

// onUsageError turns urfave's flag parsing errors into usage errors.
func onUsageError(c *cli.Context, err error, _ bool) error {
	return usageErr(c, "%v", err)
}

// groupAction runs when a command group is given no known subcommand.
func groupAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErr(c, "unknown command %q for %q", c.Args().First(), helpName(c))
	}
	return cli.ShowSubcommandHelp(c)
}

// helpName is the full name of the running command, e.g. "hotswap agent show".
func helpName(c *cli.Context) string {
	if c.Command != nil && c.Command.HelpName != "" {
		return c.Command.HelpName
	}
	return c.App.Name
}

// Run runs app with args (args[0] is the program name), prints any error as
// "hotswap: message" on the app's ErrWriter and returns the exit code.
func Run(ctx context.Context, app *cli.App, args []string) int {
	err := bareDuration(app, args)
	if err == nil {
		err = app.RunContext(ctx, reorder(app, args))
	}
	if err == nil {
		return ExitOK
	}
	printError(app.ErrWriter, err)
	var ue *usageError
	var ec cli.ExitCoder
	if errors.As(err, &ue) || errors.As(err, &ec) {
		return ExitUsage
	}
	return ExitError
}

// reorder is normalizeArgs, keeping a completion request last, where
// urfave/cli looks for it.
func reorder(app *cli.App, args []string) []string {
	if n := len(args); n > 1 && args[n-1] == completionFlag {
		return append(normalizeArgs(app, args[:n-1]), completionFlag)
	}
	return normalizeArgs(app, args)
}

// printError writes err with a hint when the user can act on one.
func printError(w io.Writer, err error) {
	fmt.Fprintf(w, "hotswap: %s\n", err)
	var ue *usageError
	switch {
	case errors.As(err, &ue) && ue.cmd != "":
		fmt.Fprintf(w, "See '%s --help' for usage and examples.\n", ue.cmd)
	case errors.Is(err, api.ErrUnauthorized):
		fmt.Fprintln(w, "Check the API token given with --token, --token-file or HOTSWAP_TOKEN "+
			"(a new cluster's admin token is in DATA-DIR/bootstrap-token on its first server).")
	}
}

// newClient builds the API client from the global flags.
func newClient(c *cli.Context) (*api.Client, error) {
	token, err := apiToken(c)
	if err != nil {
		return nil, err
	}
	return apiClient(c, token)
}

// apiToken reads the token from --token-file, else --token.
func apiToken(c *cli.Context) (string, error) {
	if path := c.String("token-file"); path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return "", usagef("--token-file: %v", err)
		}
		if tok := strings.TrimSpace(string(raw)); tok != "" {
			return tok, nil
		}
		return "", usagef("--token-file %s is empty", path)
	}
	if tok := strings.TrimSpace(c.String("token")); tok != "" {
		return tok, nil
	}
	return "", usagef("no API token: give --token, --token-file or set HOTSWAP_TOKEN " +
		"(a new cluster's admin token is in DATA-DIR/bootstrap-token on its first server)")
}

// needArgs checks a command got exactly the positional arguments it names.
func needArgs(c *cli.Context, names ...string) error {
	name := strings.TrimPrefix(helpName(c), c.App.Name+" ")
	got := c.Args().Slice()
	switch {
	case len(got) < len(names):
		return usageErr(c, "%s needs %s", name, strings.Join(names[len(got):], " "))
	case len(got) > len(names) && len(names) == 0:
		return usageErr(c, "%s takes no arguments; unexpected: %s", name, strings.Join(got, " "))
	case len(got) > len(names):
		return usageErr(c, "%s takes %s only; unexpected: %s", name, strings.Join(names, " "),
			strings.Join(got[len(names):], " "))
	}
	return nil
}
