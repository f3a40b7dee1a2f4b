package cluster

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/raft"

	"github.com/hotswap-db/hotswap/internal/api"
)

// Status reports, as the API shows it, the Raft configuration, leader, term and indexes.
func (n *Node) Status() (api.ClusterStatus, error) {
	stats := n.raft.Stats()
	leaderAddr, leaderID := n.raft.LeaderWithID()
	st := api.ClusterStatus{
		ServerID:     n.cfg.Self.ID,
		State:        n.raft.State().String(),
		Leader:       string(leaderID),
		LeaderAddr:   string(leaderAddr),
		Term:         parseUint(stats["term"]),
		LastIndex:    n.raft.LastIndex(),
		CommitIndex:  parseUint(stats["commit_index"]),
		AppliedIndex: n.fsm.LastApplied(),
	}
	if lc := n.raft.LastContact(); !lc.IsZero() && !n.IsLeader() {
		st.LastContact = time.Since(lc).Round(time.Millisecond).String()
	}
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return st, err
	}
	known := n.State().Servers()
	for _, s := range f.Configuration().Servers {
		k := known[string(s.ID)]
		st.Servers = append(st.Servers, api.ClusterServer{
			ID: string(s.ID), RaftAddr: string(s.Address), HTTPAddr: k.HTTPAddr, RPCAddr: k.RPCAddr,
			Suffrage: suffrage(s.Suffrage), Leader: s.ID == leaderID,
		})
	}
	slices.SortFunc(st.Servers, func(a, b api.ClusterServer) int { return strings.Compare(a.ID, b.ID) })
	return st, nil
}

func suffrage(s raft.ServerSuffrage) string {
	if s == raft.Voter {
		return "voter"
	}
	return "nonvoter"
}

func parseUint(s string) uint64 {
	v, _ := strconv.ParseUint(s, 10, 64)
	return v
}
