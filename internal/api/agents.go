package api

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// AgentTokenRequest is the body of POST /api/v1/agents.
type AgentTokenRequest struct {
	Name string `json:"name"`
}

// AgentTokenResponse carries a new agent's token: the API shows it once and
// keeps only its hash.
type AgentTokenResponse struct {
	Name      string    `json:"name"`
	Token     string    `json:"token"`
	CreatedAt time.Time `json:"createdAt"`
}

// AgentView is an agent as the API shows it: its registration, what it last
// reported, and whether it is connected now.
type AgentView struct {
	Name        string                  `json:"name"`
	Connected   bool                    `json:"connected"`
	ConnectedAt time.Time               `json:"connectedAt,omitzero"`
	LastSeen    time.Time               `json:"lastSeen,omitzero"`
	Hostname    string                  `json:"hostname,omitempty"`
	Version     string                  `json:"version,omitempty"`
	CreatedAt   time.Time               `json:"createdAt"`
	Instances   []domain.InstanceStatus `json:"instances"`
	// Poolers are the ids of the connection poolers the agent may switch.
	Poolers []string `json:"poolers,omitempty"`
	// PoolerTargets are, per pooler, the instance ids it can send the
	// clients to (its targets in the agent's config).
	PoolerTargets map[string][]string `json:"poolerTargets,omitempty"`
}

// DefaultAgentPage is how many agents GET /api/v1/agents answers when
// the request names no limit.
const DefaultAgentPage = 100

// AgentSummary is one agent's row in GET /api/v1/agents: what a listing
// shows, a few hundred bytes whatever the agent reports. Its instances,
// their status and preflight checks are in GET /api/v1/agents/{name}.
type AgentSummary struct {
	Name      string    `json:"name"`
	Connected bool      `json:"connected"`
	LastSeen  time.Time `json:"lastSeen,omitzero"`
	Hostname  string    `json:"hostname,omitempty"`
	Version   string    `json:"version,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	// Instances counts the instances the agent reports.
	Instances int `json:"instances"`
	// Unreachable names the instances the agent could not reach.
	Unreachable []string `json:"unreachable,omitempty"`
	// Poolers are the ids of the connection poolers the agent may switch.
	Poolers []string `json:"poolers,omitempty"`
	// Preflight sums up the instances' preflights in one line: "ok" when
	// every instance passed, else each one that did not ("main: missing:
	// replication; replica: not checked"); empty with no instance.
	Preflight string `json:"preflight,omitempty"`
}

// Summary is the agent's row in the agent list.
func (v AgentView) Summary() AgentSummary {
	s := AgentSummary{Name: v.Name, Connected: v.Connected, LastSeen: v.LastSeen, Hostname: v.Hostname,
		Version: v.Version, CreatedAt: v.CreatedAt, Instances: len(v.Instances), Poolers: v.Poolers,
		Preflight: preflightSummary(v.Instances)}
	for _, in := range v.Instances {
		if !in.Reachable {
			s.Unreachable = append(s.Unreachable, in.InstanceID)
		}
	}
	return s
}

// preflightSummary is AgentSummary.Preflight.
func preflightSummary(list []domain.InstanceStatus) string {
	var out []string
	for _, in := range list {
		if s := in.Preflight.Summary(); s != "ok" {
			out = append(out, in.InstanceID+": "+s)
		}
	}
	if len(out) == 0 && len(list) > 0 {
		return "ok"
	}
	return strings.Join(out, "; ")
}

// AgentList is one page of GET /api/v1/agents, sorted by name. Total
// counts every registered agent, not only this page.
type AgentList struct {
	Agents []AgentSummary `json:"agents"`
	Total  int            `json:"total"`
	Limit  int            `json:"limit"`
	Offset int            `json:"offset"`
}

// ListAgentsRequest is the query of GET /api/v1/agents. Zero fields are
// not sent: the server's defaults apply (limit DefaultAgentPage, offset 0).
type ListAgentsRequest struct {
	Limit  int
	Offset int
}

func (r ListAgentsRequest) query() string {
	q := url.Values{}
	setPage(q, r.Limit, r.Offset)
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// CreateAgentToken registers an agent called name and returns its token,
// which the API shows only this once.
func (c *Client) CreateAgentToken(ctx context.Context, name string) (AgentTokenResponse, error) {
	var t AgentTokenResponse
	return t, c.post(ctx, "/api/v1/agents", AgentTokenRequest{Name: name}, &t)
}

// ListAgents returns one page of the registered agents, sorted by name.
func (c *Client) ListAgents(ctx context.Context, r ListAgentsRequest) (AgentList, error) {
	var l AgentList
	return l, c.get(ctx, "/api/v1/agents"+r.query(), &l)
}

// AllAgents returns every registered agent, reading the list page by
// page (pageSize each; 0: the largest page the server answers).
func (c *Client) AllAgents(ctx context.Context, pageSize int) (AgentList, error) {
	if pageSize <= 0 {
		pageSize = MaxPageSize
	}
	all := AgentList{Agents: []AgentSummary{}}
	for {
		l, err := c.ListAgents(ctx, ListAgentsRequest{Limit: pageSize, Offset: len(all.Agents)})
		if err != nil {
			return all, err
		}
		all.Agents, all.Total = append(all.Agents, l.Agents...), l.Total
		if len(l.Agents) == 0 || len(all.Agents) >= l.Total {
			all.Limit = len(all.Agents)
			return all, nil
		}
	}
}

// GetAgent returns the agent called name.
func (c *Client) GetAgent(ctx context.Context, name string) (AgentView, error) {
	var a AgentView
	return a, c.getOne(ctx, "agents", name, "", &a)
}

// DeleteAgent removes an agent and revokes its token.
func (c *Client) DeleteAgent(ctx context.Context, name string) error {
	return c.delOne(ctx, "agents", name)
}
