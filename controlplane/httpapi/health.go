package httpapi

import (
	"fmt"
	"net/http"

	"github.com/hotswap-db/hotswap/controlplane/monitor"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

func (a *API) databaseHealth(w http.ResponseWriter, r *http.Request, _ principal) error {
	db, err := a.raft.State().Database(r.PathValue("id"))
	if err != nil {
		return err
	}
	h := assessHealth(db, a.presence.Presence())
	for i := range h.Instances {
		in := &h.Instances[i]
		if s, ok := a.samples.Latest(monitor.Key{Agent: in.Agent, Instance: in.InstanceID}); ok {
			in.Counters = &s
		}
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

// assessHealth joins a database's declared instances with what their agents
// report live, and says what is wrong in words an operator can act on.
func assessHealth(db domain.Database, live map[string]domain.AgentPresence) api.DatabaseHealth {
	h := api.DatabaseHealth{DatabaseID: db.DatabaseID, Name: db.Name, Problems: []string{}}
	for _, ref := range db.Instances {
		ih, problem := instanceHealth(ref, live[ref.Agent])
		if problem != "" {
			h.Problems = append(h.Problems, problem)
		}
		h.ActiveConnections += ih.ActiveConnections
		h.ReplicationLag = max(h.ReplicationLag, ih.ReplicationLagSeconds)
		if ih.LastCheck.After(h.LastCheck) {
			h.LastCheck = ih.LastCheck
		}
		h.Warnings = append(h.Warnings, preflightWarnings(ref, ih.Preflight)...)
		h.Instances = append(h.Instances, ih)
	}
	h.IsHealthy = len(h.Problems) == 0
	return h
}

func instanceHealth(ref domain.InstanceRef, p domain.AgentPresence) (api.InstanceHealth, string) {
	ih := api.InstanceHealth{Agent: ref.Agent, InstanceID: ref.InstanceID, Role: ref.Role,
		DetectedRole: domain.DetectedUnknown, AgentConnected: p.Connected}
	name := ref.Agent + "/" + ref.InstanceID
	if !p.Connected {
		return ih, fmt.Sprintf("%s: agent %s is not connected", name, ref.Agent)
	}
	var st *domain.InstanceStatus
	for i := range p.Instances {
		if p.Instances[i].InstanceID == ref.InstanceID {
			st = &p.Instances[i]
		}
	}
	if st == nil {
		return ih, fmt.Sprintf("%s: agent %s does not serve an instance %q (check its config)", name, ref.Agent, ref.InstanceID)
	}
	ih.DetectedRole, ih.Reachable, ih.ServerVersion = st.Role, st.Reachable, st.ServerVersion
	ih.ActiveConnections, ih.ReplicationLagSeconds = st.ActiveConnections, st.ReplicationLagSeconds
	ih.ReplicationLinks, ih.LastCheck, ih.Error = st.Links, st.CheckedAt, st.Error
	ih.Preflight = st.Preflight
	switch {
	case !st.Reachable:
		return ih, fmt.Sprintf("%s: unreachable: %s", name, st.Error)
	case ref.Role == domain.RoleMaster && st.Role != domain.DetectedPrimary:
		return ih, fmt.Sprintf("%s: declared Master but the database reports %s", name, st.Role)
	}
	return ih, ""
}
