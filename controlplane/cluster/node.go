// Package cluster runs one server's Raft node: the replicated log, its
// on-disk stores, bootstrapping or joining a cluster, and committing
// commands to the state machine.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/tlsutil"
)

// ErrNotLeader is returned by Apply on a server that does not lead.
var ErrNotLeader = errors.New("cluster: not the leader")

// Peer is one voter named when a new cluster is formed.
type Peer struct {
	ID       string
	RaftAddr string
}

// ParsePeers reads "id=host:port,id=host:port".
func ParsePeers(s string) ([]Peer, error) {
	var peers []Peer
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, addr, ok := strings.Cut(part, "=")
		if !ok || id == "" {
			return nil, fmt.Errorf("peer %q: want id=host:port", part)
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return nil, fmt.Errorf("peer %q: %w", part, err)
		}
		peers = append(peers, Peer{ID: id, RaftAddr: addr})
	}
	return peers, nil
}

// Config says how to run the node.
type Config struct {
	Self domain.Server // this server's id and addresses
	// RaftBind is the address Raft listens on when it differs from
	// Self.RaftAddr, the one other servers dial (a NAT or a proxy in
	// between); empty: Self.RaftAddr.
	RaftBind string
	DataDir  string
	// Peers, when set on a server with no state yet, forms a new cluster of
	// these voters (which must include Self). Ignored once state exists.
	Peers []Peer
	// Join, when true, makes a server with no state wait to be added to an
	// existing cluster instead of forming a single-node one.
	Join   bool
	Logger hclog.Logger
	// TLS, when set, runs Raft over mutually authenticated TLS with these
	// certificates; nil runs it over plain TCP.
	TLS *tlsutil.Store
	// LeaderNotify receives true when this server gains leadership and false
	// when it loses it. It must be consumed promptly.
	LeaderNotify chan bool
}

// Node is this server's member of the Raft group.
type Node struct {
	cfg     Config
	raft    *raft.Raft
	fsm     *fsm.FSM
	stores  []interface{ Close() error }
	applied *notifier
	// bootIndex is the last log index on disk at start; until it is applied
	// the state is older than what this server last served.
	bootIndex uint64
	bootAt    time.Time
}

// catchUpLimit bounds how long a restarted server waits to replay its own
// log before it serves anyway (an uncommitted tail may never be applied).
const catchUpLimit = 30 * time.Second

// Ready reports whether the state has caught up with what this server had
// on disk when it started: a restarted server must not answer from an
// empty or old state.
func (n *Node) Ready() bool {
	return n.raft.AppliedIndex() >= n.bootIndex || time.Since(n.bootAt) > catchUpLimit
}

// Open starts the Raft node, bootstrapping a new cluster when the data
// folder is empty and Join is not set.
func Open(ctx context.Context, cfg Config) (*Node, error) {
	raftDir := filepath.Join(cfg.DataDir, "raft")
	if err := os.MkdirAll(raftDir, 0o700); err != nil {
		return nil, fmt.Errorf("create raft dir: %w", err)
	}
	n := &Node{cfg: cfg, applied: newNotifier()}
	n.fsm = fsm.New(func(uint64) { n.applied.notify() })
	store, err := raftboltdb.NewBoltStore(filepath.Join(raftDir, "raft.db"))
	if err != nil {
		return nil, fmt.Errorf("open raft store: %w", err)
	}
	n.stores = append(n.stores, store)
	snaps, err := raft.NewFileSnapshotStoreWithLogger(raftDir, 2, cfg.Logger.Named("snapshot"))
	if err != nil {
		return nil, n.closeOn(fmt.Errorf("open snapshot store: %w", err))
	}
	trans, err := newTransport(cfg)
	if err != nil {
		return nil, n.closeOn(err)
	}
	rcfg := raftConfig(cfg)
	r, err := raft.NewRaft(rcfg, n.fsm, store, store, snaps, trans)
	if err != nil {
		return nil, n.closeOn(fmt.Errorf("start raft: %w", err))
	}
	n.raft = r
	n.bootIndex, n.bootAt = r.LastIndex(), time.Now()
	if err := n.bootstrapIfNew(store, snaps); err != nil {
		n.Shutdown()
		return nil, err
	}
	return n, nil
}

func newTransport(cfg Config) (*raft.NetworkTransport, error) {
	addr, err := net.ResolveTCPAddr("tcp", cfg.Self.RaftAddr)
	if err != nil {
		return nil, fmt.Errorf("raft address %q: %w", cfg.Self.RaftAddr, err)
	}
	if addr.IP == nil || addr.IP.IsUnspecified() {
		return nil, fmt.Errorf("raft address %q: give the address other servers reach this one at, not a wildcard", cfg.Self.RaftAddr)
	}
	bind := cfg.RaftBind
	if bind == "" {
		bind = cfg.Self.RaftAddr
	}
	if cfg.TLS != nil {
		return newTLSTransport(bind, addr, cfg.TLS, cfg.Logger.Named("transport"))
	}
	t, err := raft.NewTCPTransportWithLogger(bind, addr, 3, 10*time.Second, cfg.Logger.Named("transport"))
	if err != nil {
		return nil, fmt.Errorf("listen for raft on %s: %w", bind, err)
	}
	return t, nil
}

// HeartbeatTimeout is how long a follower waits without hearing from the
// leader before it starts an election (Raft waits between one and two of
// them, at random). The API bounds what it forwards to the leader by it.
const HeartbeatTimeout = 500 * time.Millisecond

func raftConfig(cfg Config) *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.Self.ID)
	rc.Logger = cfg.Logger.Named("raft")
	rc.HeartbeatTimeout = HeartbeatTimeout
	rc.ElectionTimeout = HeartbeatTimeout
	rc.LeaderLeaseTimeout = 250 * time.Millisecond
	rc.CommitTimeout = 20 * time.Millisecond
	rc.SnapshotThreshold = 4096
	rc.NotifyCh = cfg.LeaderNotify
	return rc
}

func (n *Node) bootstrapIfNew(store *raftboltdb.BoltStore, snaps raft.SnapshotStore) error {
	existing, err := raft.HasExistingState(store, store, snaps)
	if err != nil {
		return fmt.Errorf("inspect raft state: %w", err)
	}
	if existing || n.cfg.Join {
		return nil
	}
	servers := []raft.Server{{ID: raft.ServerID(n.cfg.Self.ID), Address: raft.ServerAddress(n.cfg.Self.RaftAddr)}}
	if len(n.cfg.Peers) > 0 {
		servers = servers[:0]
		found := false
		for _, p := range n.cfg.Peers {
			servers = append(servers, raft.Server{ID: raft.ServerID(p.ID), Address: raft.ServerAddress(p.RaftAddr)})
			found = found || p.ID == n.cfg.Self.ID
		}
		if !found {
			return fmt.Errorf("peers do not include this server (%s)", n.cfg.Self.ID)
		}
	}
	f := n.raft.BootstrapCluster(raft.Configuration{Servers: servers})
	if err := f.Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
		return fmt.Errorf("bootstrap cluster: %w", err)
	}
	return nil
}

func (n *Node) closeOn(err error) error {
	for _, s := range n.stores {
		_ = s.Close()
	}
	return err
}

// Shutdown stops the node and closes its stores.
func (n *Node) Shutdown() {
	if n.raft != nil {
		_ = n.raft.Shutdown().Error()
	}
	_ = n.closeOn(nil)
}

// State returns the committed state (this server's copy).
func (n *Node) State() *fsm.State { return n.fsm.State() }

// Applied returns, by command type, the log entries this server applied
// since it started and their size.
func (n *Node) Applied() map[fsm.MessageType]fsm.AppliedStat { return n.fsm.Applied() }

// Self returns this server's id and addresses.
func (n *Node) Self() domain.Server { return n.cfg.Self }

// IsLeader reports whether this server leads.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Apply commits a command through the leader's log and returns its index.
// The command's own refusal (conflict, not found) is returned as the error.
func (n *Node) Apply(ctx context.Context, c fsm.Command) (uint64, error) {
	if !n.IsLeader() {
		return 0, ErrNotLeader
	}
	data, err := fsm.Encode(c)
	if err != nil {
		return 0, err
	}
	timeout := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	f := n.raft.Apply(data, timeout)
	if err := f.Error(); err != nil {
		if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) {
			return 0, fmt.Errorf("%w: %v", ErrNotLeader, err)
		}
		return 0, fmt.Errorf("commit command %d: %w", c.Type(), err)
	}
	if resp, ok := f.Response().(error); ok && resp != nil {
		return f.Index(), resp
	}
	return f.Index(), nil
}

// Barrier waits until every entry committed before it is applied here.
func (n *Node) Barrier(timeout time.Duration) error {
	return n.raft.Barrier(timeout).Error()
}

// WaitApplied blocks until this server has applied index, or ctx ends.
func (n *Node) WaitApplied(ctx context.Context, index uint64) error {
	return n.applied.wait(ctx, func() bool { return n.fsm.LastApplied() >= index })
}

// LastContact is when this server last heard from the leader: now on the
// leader itself, zero when it never has.
func (n *Node) LastContact() time.Time {
	if n.IsLeader() {
		return time.Now()
	}
	return n.raft.LastContact()
}

// LeaderServer returns the leader's addresses, as it registered them.
func (n *Node) LeaderServer() (domain.Server, bool) {
	_, id := n.raft.LeaderWithID()
	if id == "" {
		return domain.Server{}, false
	}
	s, ok := n.State().Servers()[string(id)]
	return s, ok && s.HTTPAddr != ""
}

// AddVoter adds a server to the cluster; only the leader can.
func (n *Node) AddVoter(id, raftAddr string, timeout time.Duration) error {
	if err := n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(raftAddr), 0, timeout).Error(); err != nil {
		return fmt.Errorf("add voter %s at %s: %w", id, raftAddr, err)
	}
	return nil
}

// RemoveServer removes a server from the cluster; only the leader can.
func (n *Node) RemoveServer(id string, timeout time.Duration) error {
	if err := n.raft.RemoveServer(raft.ServerID(id), 0, timeout).Error(); err != nil {
		return fmt.Errorf("remove server %s: %w", id, err)
	}
	return nil
}

// notifier wakes waiters each time an entry is applied.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

func newNotifier() *notifier { return &notifier{ch: make(chan struct{})} }

func (w *notifier) notify() {
	w.mu.Lock()
	close(w.ch)
	w.ch = make(chan struct{})
	w.mu.Unlock()
}

func (w *notifier) wait(ctx context.Context, done func() bool) error {
	for {
		w.mu.Lock()
		ch := w.ch
		w.mu.Unlock()
		if done() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
