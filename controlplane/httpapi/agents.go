package httpapi

import (
	"net/http"
	"time"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

func (a *API) createAgent(w http.ResponseWriter, r *http.Request, _ principal) error {
	body, err := readBody(r, smallBodyLimit)
	if err != nil {
		return err
	}
	var req api.AgentTokenRequest
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
	writeJSON(w, http.StatusCreated, api.AgentTokenResponse{Name: req.Name, Token: token, CreatedAt: now})
	return nil
}

func (a *API) agentView(ag domain.Agent, live map[string]domain.AgentPresence) api.AgentView {
	v := api.AgentView{Name: ag.Name, Hostname: ag.Hostname, Version: ag.Version, CreatedAt: ag.CreatedAt,
		Instances: ag.Instances, LastSeen: ag.ReportedAt, Poolers: ag.Poolers, PoolerTargets: ag.PoolerTargets}
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

// listAgents answers one page of the agents, a compact row each: the
// full view of every instance of 1,000 agents made a 1.3 MB answer.
func (a *API) listAgents(w http.ResponseWriter, r *http.Request, _ principal) error {
	pg, errs := readPage(r.URL.Query(), api.DefaultAgentPage)
	if err := domain.AsError(errs); err != nil {
		return err
	}
	st := a.raft.State()
	names := st.AgentNames()
	list := api.AgentList{Agents: []api.AgentSummary{}, Total: len(names), Limit: pg.limit, Offset: pg.offset}
	live := a.presence.Presence()
	for _, name := range pageOf(names, pg) {
		if ag, err := st.Agent(name); err == nil { // else deleted since the names were read
			list.Agents = append(list.Agents, a.agentView(ag, live).Summary())
		}
	}
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
