package httpapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// memberProofMaxAge bounds how long a member's signed addresses may be
// replayed: a proof older (or further in the future, for clock skew) than
// this is refused.
const memberProofMaxAge = 5 * time.Minute

// memberMAC is an HMAC over fields under a key derived from the cluster's
// token signing key for one purpose. The signing key is replicated in Raft,
// so every member holds it and no client does; the purpose keeps a proof
// made for one use from being accepted for another.
func memberMAC(signingKey []byte, purpose string, fields ...string) string {
	derive := hmac.New(sha256.New, signingKey)
	derive.Write([]byte("hotswap: " + purpose))
	mac := hmac.New(sha256.New, derive.Sum(nil))
	mac.Write([]byte(strings.Join(fields, "\n")))
	return hex.EncodeToString(mac.Sum(nil))
}

// MemberAddressesProof is the proof server id puts on its own addresses
// (api.MemberAddresses.Proof), under the cluster's signing key.
func MemberAddressesProof(signingKey []byte, id string, m api.MemberAddresses) string {
	return memberMAC(signingKey, "member addresses", id, m.RaftAddr, m.HTTPAddr, m.RPCAddr,
		m.IssuedAt.UTC().Format(time.RFC3339Nano))
}

// registerMember records a member's own HTTP and gRPC addresses. Raft's
// configuration carries only the Raft address, so a server that joined
// through --peers and never led is otherwise listed without them. No token
// is taken: the proof shows a member wrote the body, and the Raft address
// must be the one the configuration holds for that id, so one member cannot
// rewrite another's record.
func (a *API) registerMember(w http.ResponseWriter, r *http.Request, _ principal) error {
	id := r.PathValue("id")
	body, err := readBody(r, smallBodyLimit)
	if err != nil {
		return err
	}
	var req api.MemberAddresses
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	if err := validateJoin(api.JoinRequest{ID: id, RaftAddr: req.RaftAddr, HTTPAddr: req.HTTPAddr, RPCAddr: req.RPCAddr}); err != nil {
		return err
	}
	if err := a.checkMemberProof(id, req); err != nil {
		return err
	}
	if err := a.checkMemberRaftAddr(id, req.RaftAddr); err != nil {
		return err
	}
	srv := domain.Server{ID: id, RaftAddr: req.RaftAddr, HTTPAddr: req.HTTPAddr, RPCAddr: req.RPCAddr}
	if a.raft.State().Servers()[id] != srv {
		who := principal{Name: "server:" + id}
		r = r.WithContext(context.WithValue(r.Context(), principalKey{}, who))
		if err := a.commit(w, r, fsm.RegisterServerRequest{Server: srv}); err != nil {
			return err
		}
		a.log.Info("recorded a member's addresses", "server_id", id, "http", srv.HTTPAddr, "rpc", srv.RPCAddr)
	}
	writeJSON(w, http.StatusOK, srv)
	return nil
}

// checkMemberProof refuses a body no member signed, or signed too long ago.
func (a *API) checkMemberProof(id string, req api.MemberAddresses) error {
	key := a.raft.State().SigningKey()
	if len(key) == 0 {
		return unavailable("the cluster has no signing key yet; retry shortly")
	}
	if !hmac.Equal([]byte(req.Proof), []byte(MemberAddressesProof(key, id, req))) {
		return forbidden("the proof does not check: only a member of this cluster may record its addresses")
	}
	if age := a.now().Sub(req.IssuedAt); age > memberProofMaxAge || age < -memberProofMaxAge {
		return forbidden(fmt.Sprintf("the proof was issued at %s, more than %s from this server's clock",
			req.IssuedAt.UTC().Format(time.RFC3339), memberProofMaxAge))
	}
	return nil
}

// checkMemberRaftAddr answers 404 unless id is in the Raft configuration,
// and 409 unless raftAddr is its address there.
func (a *API) checkMemberRaftAddr(id, raftAddr string) error {
	s, err := a.member(id)
	if err != nil {
		return err
	}
	if s.RaftAddr != raftAddr {
		return &apiError{http.StatusConflict, api.CodeConflict,
			fmt.Sprintf("server %q is at %s in the Raft configuration, not %s", id, s.RaftAddr, raftAddr), nil}
	}
	return nil
}
