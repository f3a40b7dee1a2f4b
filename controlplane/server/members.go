package server

import (
	"context"
	"fmt"
	"time"

	"github.com/hotswap-db/hotswap/controlplane/httpapi"
	"github.com/hotswap-db/hotswap/internal/api"
)

// recordAddresses keeps this server's HTTP and gRPC addresses in the
// replicated state while it follows. Raft's configuration holds only Raft
// addresses, and a leader records its own on election, so without this a
// server that formed the cluster through --peers and never led would be
// listed without the addresses clients, agents and the other servers need.
// It asks the leader, signed with the cluster's key, whenever the state's
// record differs from this server's addresses, backing off on failures.
func (s *Server) recordAddresses(ctx context.Context) {
	const settled = 2 * time.Second
	wait, lastErr := settled, ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		err := s.recordAddressesOnce(ctx)
		if err == nil {
			wait, lastErr = settled, ""
			continue
		}
		if err.Error() != lastErr {
			s.cfg.Logger.Warn("record this server's addresses on the leader", "error", err, "retry_in", wait)
			lastErr = err.Error()
		}
		wait = min(wait*2, 30*time.Second)
	}
}

// recordAddressesOnce asks the leader to record this server's addresses,
// unless the state holds them already, this server leads (it records its
// own, see lead) or no leader and key are known yet.
func (s *Server) recordAddressesOnce(ctx context.Context) error {
	self, st := s.node.Self(), s.node.State()
	if s.node.IsLeader() || st.Servers()[self.ID] == self {
		return nil
	}
	key := st.SigningKey()
	leader, ok := s.node.LeaderServer()
	if len(key) == 0 || !ok {
		return nil
	}
	m := api.MemberAddresses{RaftAddr: self.RaftAddr, HTTPAddr: self.HTTPAddr, RPCAddr: self.RPCAddr,
		IssuedAt: time.Now().UTC()}
	m.Proof = httpapi.MemberAddressesProof(key, self.ID, m)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := s.apiClient(s.peerURL(leader.HTTPAddr), "").RegisterMemberAddresses(ctx, self.ID, m); err != nil {
		return fmt.Errorf("via leader %s at %s: %w", leader.ID, leader.HTTPAddr, err)
	}
	s.cfg.Logger.Info("recorded this server's addresses", "leader", leader.ID, "http", self.HTTPAddr, "rpc", self.RPCAddr)
	return nil
}

// peerURL is the base URL of another server's API at addr (host:port).
func (s *Server) peerURL(addr string) string {
	if s.cfg.TLS != nil {
		return "https://" + addr
	}
	return "http://" + addr
}
