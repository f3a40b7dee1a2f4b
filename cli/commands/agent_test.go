package commands

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/api"
)

// TestAgentTablesShowPoolers: agent list and agent show name the poolers
// each agent may switch, and say none when it reports none.
func TestAgentTablesShowPoolers(t *testing.T) {
	pooled := api.AgentView{Name: "pool-host", Connected: true, Poolers: []string{"bouncer", "proxysql"},
		PoolerTargets: map[string][]string{"bouncer": {"green", "main"}}}
	bare := api.AgentView{Name: "db-host"}
	var list bytes.Buffer
	if err := printAgentList(printer{w: &list}, api.AgentList{Agents: []api.AgentSummary{pooled.Summary(), bare.Summary()}, Total: 2}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(list.String(), "\n")
	if len(lines) < 3 || !strings.Contains(lines[0], "POOLERS") || !strings.Contains(lines[1], "bouncer, proxysql") ||
		!strings.Contains(lines[2], "none") {
		t.Errorf("agent list =\n%s\nwant a POOLERS column: bouncer, proxysql for pool-host, none for db-host", list.String())
	}
	var show bytes.Buffer
	if err := printAgent(printer{w: &show}, pooled); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(show.String(), "Poolers:") || !strings.Contains(show.String(), "bouncer (targets: green, main), proxysql") {
		t.Errorf("agent show =\n%s\nwant its poolers, with their targets where reported", show.String())
	}
}

// TestAgentListShowsNextPage: a page that is not the last says where the
// next one starts; the last says nothing more.
func TestAgentListShowsNextPage(t *testing.T) {
	rows := []api.AgentSummary{{Name: "a", Instances: 2, Unreachable: []string{"replica"}, Preflight: "ok"}, {Name: "b"}}
	var page bytes.Buffer
	if err := printAgentList(printer{w: &page}, api.AgentList{Agents: rows, Total: 7, Limit: 2, Offset: 2}); err != nil {
		t.Fatal(err)
	}
	if got := page.String(); !strings.Contains(got, "Showing 3-4 of 7; next page: --offset 4") ||
		!strings.Contains(got, "2 (unreachable: replica)") {
		t.Errorf("agent list, page 2 of 4 =\n%s\nwant the next page's offset and the unreachable instance", got)
	}
	var last bytes.Buffer
	if err := printAgentList(printer{w: &last}, api.AgentList{Agents: rows, Total: 2, Limit: 2}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(last.String(), "Showing") {
		t.Errorf("agent list, the only page =\n%s\nwant no next page", last.String())
	}
}
