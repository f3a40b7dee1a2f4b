package httpapi

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

func (a *API) clusterStatus(w http.ResponseWriter, _ *http.Request, _ principal) error {
	st, err := a.raft.Status()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (a *API) clusterJoin(w http.ResponseWriter, r *http.Request, _ principal) error {
	body, err := readBody(r, smallBodyLimit)
	if err != nil {
		return err
	}
	var req api.JoinRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	if err := validateJoin(req); err != nil {
		return err
	}
	if err := a.raft.AddVoter(req.ID, req.RaftAddr, 30*time.Second); err != nil {
		return err
	}
	srv := domain.Server{ID: req.ID, RaftAddr: req.RaftAddr, HTTPAddr: req.HTTPAddr, RPCAddr: req.RPCAddr}
	if err := a.commit(w, r, fsm.RegisterServerRequest{Server: srv}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, srv)
	return nil
}

// checkMember answers 404 unless id is a server of the Raft configuration.
func (a *API) checkMember(id string) error {
	_, err := a.member(id)
	return err
}

// member is server id as the Raft configuration lists it, or a 404 naming
// the servers it does list.
func (a *API) member(id string) (api.ClusterServer, error) {
	st, err := a.raft.Status()
	if err != nil {
		return api.ClusterServer{}, err
	}
	ids := make([]string, 0, len(st.Servers))
	for _, s := range st.Servers {
		if s.ID == id {
			return s, nil
		}
		ids = append(ids, s.ID)
	}
	return api.ClusterServer{}, notFound(fmt.Sprintf("server %q is not in the Raft configuration (servers: %s)", id, strings.Join(ids, ", ")))
}

// removedFrom reports whether this server was removed from the cluster: it
// knows a configuration, and it is not in it.
func removedFrom(st api.ClusterStatus) bool {
	if len(st.Servers) == 0 {
		return false
	}
	for _, s := range st.Servers {
		if s.ID == st.ServerID {
			return false
		}
	}
	return true
}

func validateJoin(req api.JoinRequest) error {
	var errs []domain.FieldError
	if !domain.ValidName(req.ID) {
		errs = append(errs, domain.FieldError{Field: "id", Message: "is required: the joining server's id"})
	}
	for _, f := range []struct{ name, addr string }{{"raftAddr", req.RaftAddr}, {"httpAddr", req.HTTPAddr}, {"rpcAddr", req.RPCAddr}} {
		if _, _, err := net.SplitHostPort(f.addr); err != nil {
			errs = append(errs, domain.FieldError{Field: f.name, Message: "must be host:port"})
		}
	}
	return domain.AsError(errs)
}

func (a *API) clusterRemove(w http.ResponseWriter, r *http.Request, _ principal) error {
	id := r.PathValue("id")
	if id == a.raft.Self().ID {
		return badRequest("a leader cannot remove itself; remove it through another server after it steps down")
	}
	if err := a.checkMember(id); err != nil {
		return err
	}
	if err := a.raft.RemoveServer(id, 30*time.Second); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
