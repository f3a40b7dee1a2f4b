package commands

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/internal/api"
)

func clusterCommand() *cli.Command {
	return &cli.Command{
		Name:  "cluster",
		Usage: "see and change the control plane's Raft group",
		Subcommands: []*cli.Command{{
			Name:  "status",
			Usage: "show every server (HTTP and Raft addresses, reachable or not), the leader, the term and the Raft indexes",
			UsageText: `hotswap cluster status

Each server's /health is asked, from here, whether it answers. Exits 1 when
the cluster has no leader (an election, or lost quorum: a majority of the
voters must be up and reach each other), so scripts can test it.

Examples:
  hotswap cluster status
  hotswap --address 10.0.0.2:5000 -o json cluster status`,
			Action: clusterStatus,
		}, {
			Name:      "join",
			Usage:     "add a running server to the cluster as a voter",
			ArgsUsage: "SERVER-ID RAFT-ADDR",
			UsageText: `hotswap cluster join SERVER-ID RAFT-ADDR --http-addr HOST:PORT --rpc-addr HOST:PORT

The new server must be running (started with the same --server-id and
--raft-addr); the leader adds it and it catches up from the leader's log.
The same as starting it with --join.

Examples:
  hotswap cluster join s4 10.0.0.4:5002 --http-addr 10.0.0.4:5000 --rpc-addr 10.0.0.4:5001`,
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "http-addr", Usage: "the server's HTTP address, for forwarding and clients (required)"},
				&cli.StringFlag{Name: "rpc-addr", Usage: "the server's gRPC address, for agents (required)"},
			},
			Action: clusterJoin,
		}, {
			Name:      "remove",
			Usage:     "remove a server from the Raft configuration (not the leader: transfer the leadership first)",
			ArgsUsage: "SERVER-ID",
			UsageText: `hotswap cluster remove SERVER-ID

An unknown id is refused (404) with the list of servers. The removed server
stops taking part: its /health says "removed" and its log says so; stop it.
The same as 'hotswap operator raft remove-peer'.

Examples:
  hotswap cluster remove s3`,
			Action: removePeer,
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
	view := clusterView{ClusterStatus: st, Reachable: probeServers(c, st.Servers)}
	if err := newPrinter(c).show(view, func(p printer) error { return printClusterStatus(p, view) }); err != nil {
		return err
	}
	if st.Leader == "" {
		return fmt.Errorf("cluster status: %s (%s) knows no leader: an election is under way, or the cluster lost quorum "+
			"(a majority of its %d voters must be up and reach each other)", st.ServerID, st.State, voters(st))
	}
	return nil
}

// clusterView is what cluster status prints: the server's answer, and
// whether each server answered this CLI's /health probe.
type clusterView struct {
	api.ClusterStatus
	Reachable map[string]string `json:"reachable"`
}

func voters(st api.ClusterStatus) int {
	n := 0
	for _, s := range st.Servers {
		if s.Suffrage == "Voter" {
			n++
		}
	}
	return n
}

// probeTimeout bounds each server's /health probe.
const probeTimeout = 2 * time.Second

// probeServers asks each server's /health, in parallel, and says for each
// id "yes", "yes (STATUS: REASON)" or "no: WHY".
func probeServers(c *cli.Context, servers []api.ClusterServer) map[string]string {
	out := make(map[string]string, len(servers))
	type answer struct{ id, state string }
	answers := make(chan answer, len(servers))
	for _, s := range servers {
		go func() { answers <- answer{s.ID, probe(c, s.HTTPAddr)} }()
	}
	for range servers {
		a := <-answers
		out[a.id] = a.state
	}
	return out
}

func probe(c *cli.Context, httpAddr string) string {
	if httpAddr == "" {
		return "unknown: no HTTP address registered"
	}
	opts, err := clientOptions(c)
	if err != nil {
		return "unknown: " + err.Error()
	}
	scheme := "http://"
	if strings.HasPrefix(c.String("address"), "https://") {
		scheme = "https://"
	}
	ctx, cancel := context.WithTimeout(c.Context, probeTimeout)
	defer cancel()
	_, err = api.New(scheme+httpAddr, "", opts...).Health(ctx)
	var ae *api.Error
	switch {
	case err == nil:
		return "yes"
	case errors.As(err, &ae) && ae.Status == http.StatusServiceUnavailable:
		return "yes, unhealthy: " + clip(healthReason(ae.Message), 100)
	}
	return "no: " + oneLine(err.Error())
}

// healthReason is the status and reason of a 503 /health answer, found in
// the error's text (the body is not in the API's error format, and may be
// cut short).
func healthReason(msg string) string {
	var parts []string
	for _, m := range healthField.FindAllStringSubmatch(msg, 2) {
		parts = append(parts, m[1])
	}
	if len(parts) == 0 {
		return oneLine(msg)
	}
	return strings.Join(parts, ": ")
}

// lastContact says how long ago a follower heard from the leader ("-" on
// the leader).
func lastContact(ago string) string {
	if ago == "" {
		return "-"
	}
	return ago + " ago (from the leader)"
}

// healthField finds the status and reason fields of a /health body.
var healthField = regexp.MustCompile(`"(?:status|reason)":\s*"([^"]*)`)

func printClusterStatus(p printer, st clusterView) error {
	err := p.fields(
		field{"Server", fmt.Sprintf("%s (%s)", st.ServerID, st.State)},
		field{"Leader", or(st.Leader)},
		field{"Term", strconv.FormatUint(st.Term, 10)},
		field{"Index", fmt.Sprintf("last %d, commit %d, applied %d", st.LastIndex, st.CommitIndex, st.AppliedIndex)},
		field{"Last contact", lastContact(st.LastContact)},
	)
	if err != nil {
		return err
	}
	p.linef("")
	rows := make([][]string, 0, len(st.Servers))
	for _, s := range st.Servers {
		rows = append(rows, []string{s.ID, s.RaftAddr, or(s.HTTPAddr), or(s.RPCAddr), s.Suffrage, yesNo(s.Leader),
			or(st.Reachable[s.ID])})
	}
	return p.table([]string{"ID", "RAFT", "HTTP", "RPC", "SUFFRAGE", "LEADER", "REACHABLE"}, rows)
}

func clusterJoin(c *cli.Context) error {
	if err := needArgs(c, "SERVER-ID", "RAFT-ADDR"); err != nil {
		return err
	}
	if err := requireFlags(c, "http-addr", "rpc-addr"); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	req := api.JoinRequest{ID: c.Args().Get(0), RaftAddr: c.Args().Get(1), HTTPAddr: c.String("http-addr"),
		RPCAddr: c.String("rpc-addr")}
	srv, err := cl.JoinCluster(c.Context, req)
	if err != nil {
		return fmt.Errorf("join %s: %w", req.ID, err)
	}
	return newPrinter(c).show(srv, func(p printer) error {
		p.linef("Server %s (Raft %s, HTTP %s) joined the cluster as a voter.", srv.ID, srv.RaftAddr, srv.HTTPAddr)
		return nil
	})
}
