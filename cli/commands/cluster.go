package commands

import (
	"fmt"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/internal/api"
)

func clusterCommand() *cli.Command {
	return &cli.Command{
		Name:  "cluster",
		Usage: "see the control plane's Raft group",
		Subcommands: []*cli.Command{{
			Name:  "status",
			Usage: "show the servers, the leader, the term and the Raft indexes",
			UsageText: `hotswap cluster status

Examples:
  hotswap cluster status
  hotswap --address 10.0.0.2:5000 -o json cluster status`,
			Action: clusterStatus,
		}},
	}
}

func clusterStatus(c *cli.Context) error {
	if err := needArgs(c); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	st, err := cl.ClusterStatus(c.Context)
	if err != nil {
		return fmt.Errorf("cluster status: %w", err)
	}
	return newPrinter(c).show(st, func(p printer) error { return printClusterStatus(p, st) })
}

func printClusterStatus(p printer, st api.ClusterStatus) error {
	err := p.fields(
		field{"Server", fmt.Sprintf("%s (%s)", st.ServerID, st.State)},
		field{"Leader", or(st.Leader)},
		field{"Term", strconv.FormatUint(st.Term, 10)},
		field{"Index", fmt.Sprintf("last %d, commit %d, applied %d", st.LastIndex, st.CommitIndex, st.AppliedIndex)},
	)
	if err != nil {
		return err
	}
	p.linef("")
	rows := make([][]string, 0, len(st.Servers))
	for _, s := range st.Servers {
		rows = append(rows, []string{s.ID, s.RaftAddr, or(s.HTTPAddr), or(s.RPCAddr), s.Suffrage, yesNo(s.Leader)})
	}
	return p.table([]string{"ID", "RAFT", "HTTP", "RPC", "SUFFRAGE", "LEADER"}, rows)
}
