package server

import (
	"context"
	"fmt"
	"time"

	"github.com/hotswap-db/hotswap/internal/api"
)

// join asks an existing member to add this server as a voter, retrying
// until it succeeds or the server stops. Once added, Raft replicates the
// whole state here.
func (s *Server) join(ctx context.Context) {
	wait := 500 * time.Millisecond
	for {
		err := s.askToJoin(ctx)
		if err == nil {
			s.cfg.Logger.Info("joined the cluster", "via", s.cfg.JoinAddr)
			return
		}
		s.cfg.Logger.Warn("join the cluster", "via", s.cfg.JoinAddr, "error", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, 10*time.Second)
	}
}

func (s *Server) askToJoin(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	self := s.node.Self() // the advertised addresses, which others dial
	req := api.JoinRequest{ID: self.ID, RaftAddr: self.RaftAddr, HTTPAddr: self.HTTPAddr, RPCAddr: self.RPCAddr}
	if _, err := s.apiClient(s.cfg.JoinAddr, s.cfg.JoinToken).JoinCluster(ctx, req); err != nil {
		return fmt.Errorf("ask to join: %w", err)
	}
	return nil
}
