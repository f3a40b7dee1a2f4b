package commands

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// versions is what "hotswap version" prints.
type versions struct {
	Client   string `json:"client"`
	Server   string `json:"server"`
	ServerID string `json:"serverId"`
	Address  string `json:"address"`
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the versions of this client and of the server it talks to",
		Description: `Prints the client's version, then asks the server at --address for its own
(GET /health; no token needed).

Examples:
  hotswap version
  hotswap -o json version`,
		Action: func(c *cli.Context) error {
			if err := needArgs(c); err != nil {
				return err
			}
			v := versions{Client: c.App.Version}
			p := newPrinter(c)
			cl, err := apiClient(c, "")
			if err != nil {
				return err
			}
			v.Address = cl.Address()
			h, err := cl.Health(c.Context)
			if err != nil {
				if !p.isJSON() {
					p.linef("Client: %s", v.Client)
				}
				return fmt.Errorf("ask the server for its version: %w", err)
			}
			v.Server, v.ServerID = or(h.Version), h.ServerID
			return p.show(v, func(p printer) error {
				return p.fields(field{"Client", v.Client}, field{"Server", v.Server},
					field{"Server id", v.ServerID}, field{"Address", v.Address})
			})
		},
	}
}
