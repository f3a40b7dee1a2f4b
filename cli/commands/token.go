package commands

import (
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

func tokenCommand() *cli.Command {
	return &cli.Command{
		Name:  "token",
		Usage: "personal API tokens for scripts: they act as you, with your role",
		Subcommands: []*cli.Command{
			{
				Name:      "create",
				Usage:     "make a token (log in first: a token acts as the user who makes it); its secret is shown once",
				ArgsUsage: "NAME",
				UsageText: `hotswap token create NAME [--expires 90d] [--save FILE]

Examples:
  hotswap token create nightly-ci --expires 30d --save ci-token`,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "expires", Value: "90d", Usage: "how long it lasts: 90d, 720h (at most 365d)"},
					&cli.StringFlag{Name: "save", TakesFile: true, Usage: "write the secret to this file (mode 0600) instead of printing it"},
				},
				Action: tokenCreate,
			},
			{Name: "list", Usage: "list your tokens (an Admin: every token), revoked ones included",
				UsageText: "hotswap token list\n\nExamples:\n  hotswap token list\n  hotswap -o json token list", Action: tokenList},
			{
				Name:      "revoke",
				Usage:     "revoke a token by id: refused at once on every server (an Admin may revoke any, the bootstrap token once an Admin user exists)",
				ArgsUsage: "TOKEN-ID",
				UsageText: `hotswap token revoke TOKEN-ID

Examples:
  hotswap token revoke tok-3f9a1c2b7d4e
  hotswap token revoke tok-bootstrap`,
				Action: tokenRevoke,
			},
		},
	}
}

func tokenCreate(c *cli.Context) error {
	if err := needArgs(c, "NAME"); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	t, err := cl.CreateToken(c.Context, api.CreateTokenRequest{Name: c.Args().First(), ExpiresIn: c.String("expires")})
	if err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	if path := c.String("save"); path != "" {
		if err := os.WriteFile(path, []byte(t.Token+"\n"), 0o600); err != nil {
			return fmt.Errorf("save the token: %w", err)
		}
		t.Token = "(saved to " + path + ")"
	}
	return newPrinter(c).show(t, func(p printer) error {
		return p.fields(field{"ID", t.TokenID}, field{"Acts as", t.Owner + " (" + t.Role + ")"},
			field{"Expires", when(t.ExpiresAt)}, field{"Token", t.Token + "   (shown once)"})
	})
}

func tokenList(c *cli.Context) error {
	if err := needArgs(c); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	l, err := cl.ListTokens(c.Context)
	if err != nil {
		return fmt.Errorf("list tokens: %w", err)
	}
	return newPrinter(c).show(l, func(p printer) error {
		rows := make([][]string, 0, len(l.Tokens))
		for _, t := range l.Tokens {
			rows = append(rows, []string{t.TokenID, t.Name, or(t.Owner), t.Role, when(t.CreatedAt), whenOr(t.ExpiresAt, "never"), tokenState(t)})
		}
		return p.table([]string{"ID", "NAME", "OWNER", "ROLE", "CREATED", "EXPIRES", "STATE"}, rows)
	})
}

func whenOr(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return when(t)
}

func tokenState(t domain.APIToken) string {
	switch {
	case !t.RevokedAt.IsZero():
		return "revoked by " + t.RevokedBy + " " + when(t.RevokedAt)
	case !t.Usable(time.Now()):
		return "expired"
	}
	return "active"
}

func tokenRevoke(c *cli.Context) error {
	if err := needArgs(c, "TOKEN-ID"); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	id := c.Args().First()
	if err := cl.RevokeToken(c.Context, id); err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return newPrinter(c).show(map[string]string{"revoked": id}, func(p printer) error {
		p.linef("Token %s revoked.", id)
		return nil
	})
}
