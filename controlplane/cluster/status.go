package cluster

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/raft"
)

// ServerStatus is one member of the Raft configuration.
type ServerStatus struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raftAddr"`
	HTTPAddr string `json:"httpAddr,omitempty"`
	RPCAddr  string `json:"rpcAddr,omitempty"`
	Suffrage string `json:"suffrage"`
	Leader   bool   `json:"leader"`
}

// Status is the cluster as this server sees it.
type Status struct {
	ServerID     string         `json:"serverId"`
	State        string         `json:"state"`
	Leader       string         `json:"leader"`
	LeaderAddr   string         `json:"leaderAddr,omitempty"`
	Term         uint64         `json:"term"`
	LastIndex    uint64         `json:"lastIndex"`
	CommitIndex  uint64         `json:"commitIndex"`
	AppliedIndex uint64         `json:"appliedIndex"`
	LastContact  string         `json:"lastContact,omitempty"`
	Servers      []ServerStatus `json:"servers"`
}

// Status reports the Raft configuration, leader, term and indexes.
func (n *Node) Status() (Status, error) {
	stats := n.raft.Stats()
	leaderAddr, leaderID := n.raft.LeaderWithID()
	st := Status{
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
		st.Servers = append(st.Servers, ServerStatus{
			ID: string(s.ID), RaftAddr: string(s.Address), HTTPAddr: k.HTTPAddr, RPCAddr: k.RPCAddr,
			Suffrage: suffrage(s.Suffrage), Leader: s.ID == leaderID,
		})
	}
	slices.SortFunc(st.Servers, func(a, b ServerStatus) int { return strings.Compare(a.ID, b.ID) })
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
