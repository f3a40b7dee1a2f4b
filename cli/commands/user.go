package commands

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// passwordFlags say where a password is read from: never a plain flag, so
// it stays out of the shell history and the process list.
func passwordFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "password-file", TakesFile: true, Usage: "read the password from this file"},
		&cli.BoolFlag{Name: "password-stdin", Usage: "read the password from the first line of standard input"},
	}
}

// readPassword reads the password from --password-file or standard input.
func readPassword(c *cli.Context) (string, error) {
	var raw string
	switch {
	case c.String("password-file") != "":
		b, err := os.ReadFile(c.String("password-file"))
		if err != nil {
			return "", usagef("--password-file: %v", err)
		}
		raw = string(b)
	case c.Bool("password-stdin"):
		line, err := bufio.NewReader(c.App.Reader).ReadString('\n')
		if err != nil && line == "" {
			return "", usagef("--password-stdin: no password on standard input")
		}
		raw = line
	default:
		return "", usageErr(c, "give the password with --password-file or --password-stdin")
	}
	if pw := strings.TrimRight(raw, "\r\n"); pw != "" {
		return pw, nil
	}
	return "", usagef("the password is empty")
}

func loginCommand() *cli.Command {
	return &cli.Command{
		Name:      "login",
		Usage:     "log in as a user and print a login token (use it with --token or --token-file)",
		ArgsUsage: "USERNAME",
		UsageText: `hotswap login USERNAME (--password-file FILE | --password-stdin) [--save FILE]

Examples:
  hotswap login dana@example.com --password-stdin --save ~/.hotswap-token < pw.txt
  export HOTSWAP_TOKEN_FILE=~/.hotswap-token`,
		Flags: append(passwordFlags(), &cli.StringFlag{Name: "save", TakesFile: true,
			Usage: "write the token to this file (mode 0600) instead of printing it"}),
		Action: login,
	}
}

func login(c *cli.Context) error {
	if err := needArgs(c, "USERNAME"); err != nil {
		return err
	}
	pw, err := readPassword(c)
	if err != nil {
		return err
	}
	cl, err := apiClient(c, "")
	if err != nil {
		return err
	}
	l, err := cl.Login(c.Context, c.Args().First(), pw)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	if path := c.String("save"); path != "" {
		if err := os.WriteFile(path, []byte(l.Token+"\n"), 0o600); err != nil {
			return fmt.Errorf("save the token: %w", err)
		}
		l.Token = "(saved to " + path + ")"
	}
	return newPrinter(c).show(l, func(p printer) error {
		return p.fields(field{"User", l.User.Username}, field{"Role", string(l.User.Role)},
			field{"Expires", when(l.ExpiresAt)}, field{"Token", l.Token})
	})
}

func userCommand() *cli.Command {
	return &cli.Command{
		Name:  "user",
		Usage: "manage the users who log in (Admin)",
		Subcommands: []*cli.Command{
			{
				Name:      "create",
				Usage:     "add a user with a role: Admin, DBA, Developer or Viewer",
				ArgsUsage: "USERNAME",
				UsageText: `hotswap user create USERNAME --role ROLE (--password-file FILE | --password-stdin)

Examples:
  hotswap user create dana@example.com --role DBA --password-stdin < pw.txt`,
				Flags: append(passwordFlags(), &cli.StringFlag{Name: "role", Required: true,
					Usage: "Admin, DBA, Developer or Viewer"}),
				Action: userCreate,
			},
			{
				Name:  "list",
				Usage: "list the users",
				UsageText: `hotswap user list

Examples:
  hotswap user list
  hotswap -o json user list`,
				Action: userList,
			},
			{
				Name:      "delete",
				Usage:     "remove a user; their login tokens stop working at once",
				ArgsUsage: "USERNAME",
				UsageText: `hotswap user delete USERNAME

Examples:
  hotswap user delete dana@example.com`,
				Action: userDelete,
			},
		},
	}
}

func userCreate(c *cli.Context) error {
	if err := needArgs(c, "USERNAME"); err != nil {
		return err
	}
	pw, err := readPassword(c)
	if err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	u, err := cl.CreateUser(c.Context, api.CreateUserRequest{Username: c.Args().First(), Password: pw,
		Role: domain.Role(c.String("role"))})
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	return newPrinter(c).show(u, func(p printer) error {
		p.linef("User %s created with role %s.", u.Username, u.Role)
		return nil
	})
}

func userList(c *cli.Context) error {
	if err := needArgs(c); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	l, err := cl.ListUsers(c.Context)
	if err != nil {
		return fmt.Errorf("list users: %w", err)
	}
	return newPrinter(c).show(l, func(p printer) error {
		rows := make([][]string, 0, len(l.Users))
		for _, u := range l.Users {
			rows = append(rows, []string{u.Username, string(u.Role), when(u.CreatedAt), or(u.CreatedBy)})
		}
		return p.table([]string{"USERNAME", "ROLE", "CREATED", "CREATED BY"}, rows)
	})
}

func userDelete(c *cli.Context) error {
	if err := needArgs(c, "USERNAME"); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	if err := cl.DeleteUser(c.Context, c.Args().First()); err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	return newPrinter(c).show(map[string]string{"deleted": c.Args().First()}, func(p printer) error {
		p.linef("User %s deleted.", c.Args().First())
		return nil
	})
}
