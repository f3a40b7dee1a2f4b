package domain

import "time"

// Agent is a registered hotswap-agent. Its token is stored only as a hash.
type Agent struct {
	Name      string           `json:"name"`
	TokenHash string           `json:"-"`
	CreatedAt time.Time        `json:"createdAt"`
	Hostname  string           `json:"hostname,omitempty"`
	Version   string           `json:"version,omitempty"`
	Instances []InstanceStatus `json:"instances"`
	// Poolers are the ids of the connection poolers the agent may switch.
	Poolers []string `json:"poolers,omitempty"`
	// PoolerTargets are, per pooler, the instance ids it has a target for
	// in the agent's config: where it can send the clients. Nil from an
	// agent that does not report them.
	PoolerTargets map[string][]string `json:"poolerTargets,omitempty"`
	// ReportedAt is when the instances above were last committed.
	ReportedAt time.Time `json:"reportedAt,omitzero"`
}

// Instance returns the instance the agent last reported under id.
func (a *Agent) Instance(id string) (InstanceStatus, bool) {
	for _, in := range a.Instances {
		if in.InstanceID == id {
			return in, true
		}
	}
	return InstanceStatus{}, false
}

// APIToken is a bearer token for the HTTP API, stored only as a hash. A
// personal token acts as its Owner, with the user's current role; a token
// with no owner (the bootstrap token) has a Role of its own. A revoked
// token stays on record, refused.
type APIToken struct {
	TokenID   string    `json:"tokenId"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Owner     string    `json:"owner,omitempty"`
	Hash      string    `json:"-"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
	RevokedAt time.Time `json:"revokedAt,omitzero"`
	RevokedBy string    `json:"revokedBy,omitempty"`
}

// Usable reports whether the token may still be used at now.
func (t APIToken) Usable(now time.Time) bool {
	return t.RevokedAt.IsZero() && (t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt))
}

// Server is one hotswapd in the Raft group and the addresses it serves on.
type Server struct {
	ID       string `json:"id"`
	HTTPAddr string `json:"httpAddr"`
	RPCAddr  string `json:"rpcAddr"`
	RaftAddr string `json:"raftAddr"`
}

// AgentPresence is the leader's live view of an agent's session: not
// committed, rebuilt from heartbeats.
type AgentPresence struct {
	Connected   bool             `json:"connected"`
	ConnectedAt time.Time        `json:"connectedAt,omitzero"`
	LastSeen    time.Time        `json:"lastSeen,omitzero"`
	Instances   []InstanceStatus `json:"instances"`
}
