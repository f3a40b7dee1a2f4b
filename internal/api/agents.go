package api

import (
	"context"
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

// AgentList is the answer of GET /api/v1/agents.
type AgentList struct {
	Agents []AgentView `json:"agents"`
	Total  int         `json:"total"`
}

// CreateAgentToken registers an agent called name and returns its token,
// which the API shows only this once.
func (c *Client) CreateAgentToken(ctx context.Context, name string) (AgentTokenResponse, error) {
	var t AgentTokenResponse
	return t, c.post(ctx, "/api/v1/agents", AgentTokenRequest{Name: name}, &t)
}

// ListAgents returns every registered agent, sorted by name.
func (c *Client) ListAgents(ctx context.Context) (AgentList, error) {
	var l AgentList
	return l, c.get(ctx, "/api/v1/agents", &l)
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
