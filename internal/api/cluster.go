package api

import (
	"context"
	"net/http"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// Health is the answer of GET /health (no token needed). A server that
// knows no leader, or is still replaying its log, answers 503 with it.
type Health struct {
	Status   string `json:"status"` // "ok", or "degraded" / "starting" with a Reason
	Reason   string `json:"reason,omitempty"`
	ServerID string `json:"serverId"`
	State    string `json:"state"`
	Leader   string `json:"leader"`
	// Version is the server's build version.
	Version string `json:"version,omitempty"`
}

// ClusterStatus is the answer of GET /api/v1/cluster: the Raft group as
// the answering server sees it.
type ClusterStatus struct {
	ServerID     string          `json:"serverId"`
	State        string          `json:"state"`
	Leader       string          `json:"leader"`
	LeaderAddr   string          `json:"leaderAddr,omitempty"`
	Term         uint64          `json:"term"`
	LastIndex    uint64          `json:"lastIndex"`
	CommitIndex  uint64          `json:"commitIndex"`
	AppliedIndex uint64          `json:"appliedIndex"`
	LastContact  string          `json:"lastContact,omitempty"`
	Servers      []ClusterServer `json:"servers"`
}

// ClusterServer is one member of the Raft configuration.
type ClusterServer struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raftAddr"`
	HTTPAddr string `json:"httpAddr,omitempty"`
	RPCAddr  string `json:"rpcAddr,omitempty"`
	Suffrage string `json:"suffrage"`
	Leader   bool   `json:"leader"`
}

// JoinRequest is the body of POST /api/v1/cluster/join: a new server asking
// to be added as a voter. The answer is the server as registered.
type JoinRequest struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raftAddr"`
	HTTPAddr string `json:"httpAddr"`
	RPCAddr  string `json:"rpcAddr"`
}

// MemberAddresses is the body of PUT /api/v1/cluster/servers/{id}: a
// member of the Raft configuration recording its own HTTP and gRPC
// addresses, which Raft does not carry. No token is sent: Proof is an HMAC
// over the other fields under a key only members hold (derived from the
// replicated token signing key), and IssuedAt bounds its replay.
type MemberAddresses struct {
	RaftAddr string    `json:"raftAddr"`
	HTTPAddr string    `json:"httpAddr"`
	RPCAddr  string    `json:"rpcAddr"`
	IssuedAt time.Time `json:"issuedAt"`
	Proof    string    `json:"proof"`
}

// Health asks a server whether it knows a leader (GET /health).
func (c *Client) Health(ctx context.Context) (Health, error) {
	var h Health
	return h, c.get(ctx, "/health", &h)
}

// Metrics returns the server's Prometheus metrics in the text exposition
// format (GET /metrics, no token needed).
func (c *Client) Metrics(ctx context.Context) (string, error) {
	_, body, err := c.send(ctx, http.MethodGet, "/metrics", nil)
	if err != nil {
		return "", err
	}
	return string(body), nil
}

// OpenAPI returns the server's OpenAPI description of this API (GET
// /openapi.json, no token needed).
func (c *Client) OpenAPI(ctx context.Context) ([]byte, error) {
	_, body, err := c.send(ctx, http.MethodGet, "/openapi.json", nil)
	return body, err
}

// ClusterStatus returns the Raft group as the answering server sees it.
func (c *Client) ClusterStatus(ctx context.Context) (ClusterStatus, error) {
	var st ClusterStatus
	return st, c.get(ctx, "/api/v1/cluster", &st)
}

// JoinCluster asks the cluster to add a server as a voter; the leader
// answers once the server is in the configuration.
func (c *Client) JoinCluster(ctx context.Context, req JoinRequest) (domain.Server, error) {
	var s domain.Server
	return s, c.post(ctx, "/api/v1/cluster/join", req, &s)
}

// RegisterMemberAddresses records server id's addresses, as the server
// itself asks the leader once it is a member (see MemberAddresses).
func (c *Client) RegisterMemberAddresses(ctx context.Context, id string, req MemberAddresses) (domain.Server, error) {
	p, err := resource("cluster/servers", id)
	if err != nil {
		return domain.Server{}, err
	}
	var s domain.Server
	return s, c.put(ctx, p, req, &s)
}

// RemoveServer removes a server from the Raft configuration. The leader
// cannot remove itself.
func (c *Client) RemoveServer(ctx context.Context, id string) error {
	p, err := resource("cluster/servers", id)
	if err != nil {
		return err
	}
	return c.del(ctx, p)
}
