package server

import (
	"context"
	"time"
)

// removedPoll is how often a server checks whether it is still in the
// cluster's Raft configuration.
const removedPoll = time.Second

// watchRemoved logs, once each time it happens, that this server was
// removed from the Raft configuration: it then takes no part in the
// cluster, and /health says so too.
func (s *Server) watchRemoved(ctx context.Context) {
	t := time.NewTicker(removedPoll)
	defer t.Stop()
	removed := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := s.isRemoved()
		if now && !removed {
			s.cfg.Logger.Warn("this server was removed from the cluster's Raft configuration: it takes no part in the " +
				"cluster any more; stop it, or add it again with hotswap cluster join")
		}
		removed = now
	}
}

// isRemoved reports whether the configuration this server knows leaves it out.
func (s *Server) isRemoved() bool {
	st, err := s.node.Status()
	if err != nil || len(st.Servers) == 0 {
		return false
	}
	for _, srv := range st.Servers {
		if srv.ID == st.ServerID {
			return false
		}
	}
	return true
}
