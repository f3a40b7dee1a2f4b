package httpapi

import (
	"net/http"
	"time"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// AgentTokenRequest is the body of POST /api/v1/agents.
type AgentTokenRequest struct {
	Name string `json:"name"`
}

// AgentTokenResponse carries a new agent's token: shown once, stored hashed.
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
}

// AgentList is the answer of GET /api/v1/agents.
type AgentList struct {
	Agents []AgentView `json:"agents"`
	Total  int         `json:"total"`
}

func (a *API) createAgent(w http.ResponseWriter, r *http.Request, _ principal) error {
	body, err := readBody(r, smallBodyLimit)
	if err != nil {
		return err
	}
	var req AgentTokenRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	if !domain.ValidName(req.Name) {
		return badRequest("invalid agent name", domain.FieldError{Field: "name",
			Message: "is required: letters, digits, '_', '.', '-', at most 128 characters"})
	}
	token := NewToken("hsa_")
	now := a.now().UTC().Truncate(time.Millisecond)
	agent := domain.Agent{Name: req.Name, CreatedAt: now, Instances: []domain.InstanceStatus{}}
	if err := a.commit(w, r, fsm.CreateAgentRequest{Agent: agent, TokenHash: HashToken(token)}); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, AgentTokenResponse{Name: req.Name, Token: token, CreatedAt: now})
	return nil
}

func (a *API) agentView(ag domain.Agent, live map[string]domain.AgentPresence) AgentView {
	v := AgentView{Name: ag.Name, Hostname: ag.Hostname, Version: ag.Version, CreatedAt: ag.CreatedAt,
		Instances: ag.Instances, LastSeen: ag.ReportedAt}
	if p, ok := live[ag.Name]; ok {
		v.Connected, v.ConnectedAt = p.Connected, p.ConnectedAt
		if p.LastSeen.After(v.LastSeen) {
			v.LastSeen = p.LastSeen
		}
		if p.Connected {
			v.Instances = p.Instances
		}
	}
	if v.Instances == nil {
		v.Instances = []domain.InstanceStatus{}
	}
	return v
}

func (a *API) listAgents(w http.ResponseWriter, _ *http.Request, _ principal) error {
	live := a.presence.Presence()
	list := AgentList{Agents: []AgentView{}}
	for _, ag := range a.raft.State().Agents() {
		list.Agents = append(list.Agents, a.agentView(ag, live))
	}
	list.Total = len(list.Agents)
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (a *API) getAgent(w http.ResponseWriter, r *http.Request, _ principal) error {
	ag, err := a.raft.State().Agent(r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.agentView(ag, a.presence.Presence()))
	return nil
}

func (a *API) deleteAgent(w http.ResponseWriter, r *http.Request, _ principal) error {
	if err := a.commit(w, r, fsm.DeleteAgentRequest{Name: r.PathValue("name")}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
