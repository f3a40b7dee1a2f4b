package commands

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

func agentCommand() *cli.Command {
	return &cli.Command{
		Name:  "agent",
		Usage: "register hotswap-agents and see what they report",
		Subcommands: []*cli.Command{
			{
				Name:  "token",
				Usage: "create agent tokens",
				Subcommands: []*cli.Command{{
					Name:      "create",
					Usage:     "register an agent and print its token (shown once)",
					ArgsUsage: "NAME",
					UsageText: `hotswap agent token create NAME

Examples:
  hotswap agent token create db-host-1
  hotswap agent token create db-host-1 -o json | jq -r .token > agent.token`,
					Action: agentTokenCreate,
				}},
			},
			{
				Name:  "list",
				Usage: "list the agents, connected or not, with their poolers, one page at a time",
				UsageText: `hotswap agent list [--limit N] [--offset N] [--all]

Examples:
  hotswap agent list
  hotswap agent list --offset 100
  hotswap -o json agent list --all`,
				Flags: []cli.Flag{
					&cli.IntFlag{Name: "limit", Usage: fmt.Sprintf("at most this many (1-%d)", api.MaxPageSize),
						DefaultText: strconv.Itoa(api.DefaultAgentPage)},
					&cli.IntFlag{Name: "offset", Usage: "skip this many", DefaultText: "0"},
					&cli.BoolFlag{Name: "all", Usage: "every agent, reading the list page by page"},
				},
				Action: agentList,
			},
			{
				Name:      "show",
				Usage:     "show an agent, the instances and the poolers it reports",
				ArgsUsage: "NAME",
				UsageText: `hotswap agent show NAME

Examples:
  hotswap agent show db-host-1`,
				Action: agentShow,
			},
			{
				Name:      "delete",
				Usage:     "remove an agent and revoke its token",
				ArgsUsage: "NAME",
				UsageText: `hotswap agent delete NAME

Examples:
  hotswap agent delete db-host-1`,
				Action: agentDelete,
			},
		},
	}
}

func agentTokenCreate(c *cli.Context) error {
	if err := needArgs(c, "NAME"); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	tok, err := cl.CreateAgentToken(c.Context, c.Args().First())
	if err != nil {
		return fmt.Errorf("create agent token: %w", err)
	}
	return newPrinter(c).show(tok, func(p printer) error {
		printAgentToken(p, tok)
		return nil
	})
}

func printAgentToken(p printer, tok api.AgentTokenResponse) {
	p.linef("Agent %s registered. Its token, shown only this once:", tok.Name)
	p.linef("")
	p.linef("    %s", tok.Token)
	p.linef("")
	p.linef("On the agent's host, save it to /etc/hotswap/agent.token (mode 0600, owned by")
	p.linef("the agent's user) and set in /etc/hotswap/agent.yaml:")
	p.linef("    name: %s", tok.Name)
	p.linef("    token_file: /etc/hotswap/agent.token")
}

func agentList(c *cli.Context) error {
	if err := needArgs(c); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	var list api.AgentList
	if c.Bool("all") {
		list, err = cl.AllAgents(c.Context, c.Int("limit"))
	} else {
		list, err = cl.ListAgents(c.Context, api.ListAgentsRequest{Limit: c.Int("limit"), Offset: c.Int("offset")})
	}
	if err != nil {
		return fmt.Errorf("list agents: %w", err)
	}
	return newPrinter(c).show(list, func(p printer) error { return printAgentList(p, list) })
}

// printAgentList is agent list's table: one row per agent, with the
// poolers it may switch, and where the next page starts.
func printAgentList(p printer, list api.AgentList) error {
	rows := make([][]string, 0, len(list.Agents))
	for _, a := range list.Agents {
		rows = append(rows, []string{a.Name, yesNo(a.Connected), when(a.LastSeen), or(a.Hostname),
			or(a.Version), instancesOf(a), orNone(a.Poolers), or(a.Preflight)})
	}
	err := p.table([]string{"NAME", "CONNECTED", "LAST SEEN", "HOSTNAME", "VERSION", "INSTANCES", "POOLERS", "PREFLIGHT"}, rows)
	if err != nil {
		return err
	}
	if shown := list.Offset + len(list.Agents); shown < list.Total {
		p.linef("\nShowing %d-%d of %d; next page: --offset %d (or --all)", list.Offset+1, shown, list.Total, shown)
	}
	return nil
}

// instancesOf counts an agent's instances, saying which it cannot reach.
func instancesOf(a api.AgentSummary) string {
	n := strconv.Itoa(a.Instances)
	if len(a.Unreachable) > 0 {
		n += " (unreachable: " + strings.Join(a.Unreachable, ", ") + ")"
	}
	return n
}

func agentShow(c *cli.Context) error {
	if err := needArgs(c, "NAME"); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	a, err := cl.GetAgent(c.Context, c.Args().First())
	if err != nil {
		return fmt.Errorf("show agent: %w", err)
	}
	return newPrinter(c).show(a, func(p printer) error { return printAgent(p, a) })
}

func printAgent(p printer, a api.AgentView) error {
	err := p.fields(
		field{"Name", a.Name},
		field{"Connected", yesNo(a.Connected)},
		field{"Connected at", when(a.ConnectedAt)},
		field{"Last seen", when(a.LastSeen)},
		field{"Hostname", or(a.Hostname)},
		field{"Version", or(a.Version)},
		field{"Poolers", poolersOf(a)},
		field{"Created", when(a.CreatedAt)},
	)
	if err != nil {
		return err
	}
	p.linef("")
	if len(a.Instances) == 0 {
		p.linef("No instances reported yet.")
		return nil
	}
	rows := make([][]string, 0, len(a.Instances))
	for _, in := range a.Instances {
		rows = append(rows, []string{in.InstanceID, string(in.Engine), or(in.ServerVersion), string(in.Role),
			yesNo(in.Reachable), strconv.Itoa(in.ActiveConnections), lag(in.ReplicationLagSeconds), or(in.Error)})
	}
	if err := p.table([]string{"INSTANCE", "ENGINE", "VERSION", "ROLE", "REACHABLE", "CONNECTIONS", "LAG", "ERROR"}, rows); err != nil {
		return err
	}
	printPreflights(p, a.Instances)
	return nil
}

// printPreflights shows each instance's preflight checks.
func printPreflights(p printer, list []domain.InstanceStatus) {
	for _, in := range list {
		if in.Preflight == nil {
			continue
		}
		p.linef("\nPreflight of %s (%s):", in.InstanceID, when(in.Preflight.CheckedAt))
		for _, c := range in.Preflight.Checks {
			mark := "ok     "
			if !c.OK {
				mark = "MISSING"
			}
			p.linef("  %s %-12s %s", mark, c.Name, c.Detail)
			if c.Fix != "" {
				p.linef("          %-12s fix: %s", "", c.Fix)
			}
		}
	}
}

func agentDelete(c *cli.Context) error {
	if err := needArgs(c, "NAME"); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	name := c.Args().First()
	if err := cl.DeleteAgent(c.Context, name); err != nil {
		return fmt.Errorf("delete agent: %w", err)
	}
	return done(c, "Agent %s deleted; its token no longer works.", name)
}

// lag formats a replication lag in seconds.
func lag(seconds float64) string {
	return strconv.FormatFloat(seconds, 'f', 1, 64) + "s"
}

// poolersOf lists an agent's poolers, each with the instances it can
// send the clients to when the agent reports them.
func poolersOf(a api.AgentView) string {
	out := make([]string, 0, len(a.Poolers))
	for _, id := range a.Poolers {
		if t, ok := a.PoolerTargets[id]; ok {
			id += " (targets: " + orNone(t) + ")"
		}
		out = append(out, id)
	}
	return orNone(out)
}

// orNone joins ids, or says none.
func orNone(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}
