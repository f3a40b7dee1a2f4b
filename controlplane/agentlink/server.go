// Package agentlink serves the AgentLink gRPC service: agents dial in,
// authenticate with their token, report their instances and heartbeat. Only
// the leader keeps sessions; followers redirect agents to it.
package agentlink

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/proto/agentpb"
)

// Raft is what the service needs of the local Raft node.
type Raft interface {
	State() *fsm.State
	Self() domain.Server
	IsLeader() bool
	Ready() bool
	LeaderServer() (domain.Server, bool)
	Apply(ctx context.Context, c fsm.Command) (uint64, error)
}

// Config wires the service.
type Config struct {
	Raft              Raft
	Logger            hclog.Logger
	HashToken         func(string) string
	HeartbeatInterval time.Duration // what agents are asked to use; default 2s
	Clock             func() time.Time
	// VerifyPeer, when set, checks that the session's TLS peer is the
	// agent its token names (mutual TLS); nil checks nothing.
	VerifyPeer func(ctx context.Context, agent string) error
}

// StepSink receives what agents report about the steps they run, and
// learns when an agent (re)connects. The orchestrator implements it.
type StepSink interface {
	AgentConnected(agent string)
	StepEvent(agent string, ev *agentpb.StepEvent)
	StepResult(agent string, res *agentpb.StepResult)
	Samples(agent string, batch []*agentpb.Sample)
	Breach(agent string, b *agentpb.GuardBreach)
}

// Server implements agentpb.AgentLinkServer.
type Server struct {
	agentpb.UnimplementedAgentLinkServer
	cfg      Config
	presence *presence
	nextID   atomic.Uint64
	sink     StepSink
	queries  *queries[*agentpb.HistoryResponse]
	inspects *queries[*agentpb.InspectResponse]
	// closing is set by Shutdown: no session is accepted any more.
	closing atomic.Bool
}

// ErrAgentNotConnected is returned when a message is for an agent with no
// session on this server.
var ErrAgentNotConnected = errors.New("agentlink: agent not connected")

// SetSink names who receives step reports. Call it before serving.
func (s *Server) SetSink(sink StepSink) { s.sink = sink }

// Send sends a message to an agent's open session.
func (s *Server) Send(agent string, m *agentpb.ServerMessage) error {
	sess, ok := s.presence.current(agent)
	if !ok {
		return fmt.Errorf("%w: %s", ErrAgentNotConnected, agent)
	}
	if err := sess.send(m); err != nil {
		return fmt.Errorf("send to agent %s: %w", agent, err)
	}
	return nil
}

var _ agentpb.AgentLinkServer = (*Server)(nil)

// New returns the service.
func New(cfg Config) *Server {
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 2 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &Server{cfg: cfg, presence: newPresence(), queries: newQueries[*agentpb.HistoryResponse](),
		inspects: newQueries[*agentpb.InspectResponse]()}
}

// Presence returns the live view of agents (meaningful on the leader).
func (s *Server) Presence() map[string]domain.AgentPresence { return s.presence.snapshot() }

// Connected counts agents with an open session here.
func (s *Server) Connected() int { return s.presence.connected() }

// LeadershipLost ends every session so agents find the new leader.
func (s *Server) LeadershipLost() { s.presence.closeAll() }

// Shutdown ends every session at once and refuses new ones, so that the
// gRPC server's graceful stop does not wait for long-lived streams and the
// agents move to another server.
func (s *Server) Shutdown() {
	s.closing.Store(true)
	s.presence.closeAll()
}

// errToStatus maps the service's errors to gRPC codes: one table.
func errToStatus(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errUnauthenticated):
		return status.Error(codes.Unauthenticated, err.Error())
	case errors.Is(err, errWrongAgent), errors.Is(err, errProtocol):
		return status.Error(codes.PermissionDenied, err.Error())
	case errors.Is(err, errNoLeader), errors.Is(err, errShuttingDown):
		return status.Error(codes.Unavailable, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "session ended")
	}
	return status.Error(codes.Internal, err.Error())
}

var (
	errUnauthenticated = errors.New("agentlink: missing or invalid agent token")
	errWrongAgent      = errors.New("agentlink: token belongs to another agent")
	errProtocol        = errors.New("agentlink: protocol error")
	errNoLeader        = errors.New("agentlink: no leader known; retry")
	errShuttingDown    = errors.New("agentlink: server shutting down; retry another")
)

// Session serves one agent's stream.
func (s *Server) Session(stream agentpb.AgentLink_SessionServer) error {
	return errToStatus(s.session(stream))
}

func (s *Server) session(stream agentpb.AgentLink_SessionServer) error {
	if s.closing.Load() {
		return errShuttingDown
	}
	if !s.cfg.Raft.Ready() {
		return errNoLeader
	}
	agent, err := s.authenticate(stream.Context())
	if errors.Is(err, errUnauthenticated) && !s.cfg.Raft.IsLeader() {
		return s.redirectUnknown(stream)
	}
	if err != nil {
		return err
	}
	if s.cfg.VerifyPeer != nil {
		if err := s.cfg.VerifyPeer(stream.Context(), agent.Name); err != nil {
			return fmt.Errorf("%w: %v", errWrongAgent, err)
		}
	}
	// The Hello is read first, also on a follower: a stream ended before
	// the agent's first message is sent shows the agent only an EOF.
	hello, err := recvHello(stream)
	if err != nil {
		return err
	}
	if !s.cfg.Raft.IsLeader() {
		return s.redirect(stream, "this server does not lead")
	}
	if hello.GetAgentName() != agent.Name {
		return fmt.Errorf("%w: hello names %q", errWrongAgent, hello.GetAgentName())
	}
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	sess := &session{id: s.nextID.Add(1), cancel: cancel, connectedAt: s.cfg.Clock().UTC(), stream: stream}
	instances := agentpb.ToDomainList(hello.GetInstances())
	s.commitReport(ctx, agent.Name, hello, instances)
	// Welcome first: the session is registered, and steps can be sent to
	// it, only once the agent knows it is accepted.
	if err := sess.send(&agentpb.ServerMessage{Body: &agentpb.ServerMessage_Welcome{Welcome: &agentpb.Welcome{
		ServerId: s.cfg.Raft.Self().ID, HeartbeatIntervalMs: s.cfg.HeartbeatInterval.Milliseconds(),
	}}}); err != nil {
		return fmt.Errorf("send welcome: %w", err)
	}
	s.presence.open(agent.Name, sess, instances)
	defer s.presence.close(agent.Name, sess)
	if s.closing.Load() { // Shutdown ran after the first check: closeAll may have missed this session
		return errShuttingDown
	}
	s.cfg.Logger.Info("agent connected", "agent", agent.Name, "instances", len(instances))
	defer s.cfg.Logger.Info("agent disconnected", "agent", agent.Name)
	if s.sink != nil {
		s.sink.AgentConnected(agent.Name)
	}
	return s.serveSession(ctx, stream, agent.Name, hello, sess)
}

// dispatch hands one message from an agent to whoever handles it.
func (s *Server) dispatch(name string, hello *agentpb.Hello, sess *session, m *agentpb.AgentMessage) {
	switch {
	case m.GetHeartbeat() != nil:
		instances := agentpb.ToDomainList(m.GetHeartbeat().GetInstances())
		s.presence.heartbeat(name, sess, s.cfg.Clock().UTC(), instances)
		s.commitReport(context.Background(), name, hello, instances)
	case m.GetStepEvent() != nil && s.sink != nil:
		s.sink.StepEvent(name, m.GetStepEvent())
	case m.GetStepResult() != nil && s.sink != nil:
		s.sink.StepResult(name, m.GetStepResult())
	case m.GetHistory() != nil:
		s.queries.answer(m.GetHistory().GetRequestId(), m.GetHistory())
	case m.GetInspect() != nil:
		s.inspects.answer(m.GetInspect().GetRequestId(), m.GetInspect())
	case m.GetSamples() != nil && s.sink != nil:
		s.sink.Samples(name, m.GetSamples().GetSamples())
	case m.GetBreach() != nil && s.sink != nil:
		s.sink.Breach(name, m.GetBreach())
	}
}

// serveSession reads heartbeats until the stream ends, the session is
// replaced, or this server stops leading.
func (s *Server) serveSession(ctx context.Context, stream agentpb.AgentLink_SessionServer, name string, hello *agentpb.Hello, sess *session) error {
	msgs := make(chan *agentpb.AgentMessage)
	errc := make(chan error, 1)
	go func() {
		for {
			m, err := stream.Recv()
			if err != nil {
				errc <- err
				return
			}
			select {
			case msgs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	leaderCheck := time.NewTicker(500 * time.Millisecond)
	defer leaderCheck.Stop()
	for {
		select {
		case <-ctx.Done():
			if s.closing.Load() {
				return errShuttingDown
			}
			return s.redirect(stream, "session ended by the server")
		case err := <-errc:
			return fmt.Errorf("agent %s: %w", name, err)
		case <-leaderCheck.C:
			if !s.cfg.Raft.IsLeader() {
				return s.redirect(stream, "leadership moved")
			}
		case m := <-msgs:
			s.dispatch(name, hello, sess, m)
		}
	}
}

func (s *Server) authenticate(ctx context.Context) (domain.Agent, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if tok, ok := strings.CutPrefix(v, "Bearer "); ok {
			if agent, ok := s.cfg.Raft.State().AgentByTokenHash(s.cfg.HashToken(tok)); ok {
				return agent, nil
			}
		}
	}
	return domain.Agent{}, errUnauthenticated
}

func recvHello(stream agentpb.AgentLink_SessionServer) (*agentpb.Hello, error) {
	m, err := stream.Recv()
	if err != nil {
		return nil, fmt.Errorf("receive hello: %w", err)
	}
	hello := m.GetHello()
	if hello == nil {
		return nil, fmt.Errorf("%w: the first message must be Hello", errProtocol)
	}
	return hello, nil
}

// redirectUnknown sends an agent whose token this follower does not know
// to the leader: a follower's copy of the tokens may lag the leader's (a
// token created a moment ago), so only the leader's refusal is final. The
// agent learns no more than the leader's address.
func (s *Server) redirectUnknown(stream agentpb.AgentLink_SessionServer) error {
	if _, err := recvHello(stream); err != nil {
		return err
	}
	return s.redirect(stream, "this server does not lead")
}

// redirect tells the agent where the leader is, then ends the stream.
func (s *Server) redirect(stream agentpb.AgentLink_SessionServer, reason string) error {
	leader, ok := s.cfg.Raft.LeaderServer()
	if !ok || leader.RPCAddr == "" || leader.ID == s.cfg.Raft.Self().ID {
		return errNoLeader
	}
	_ = stream.Send(&agentpb.ServerMessage{Body: &agentpb.ServerMessage_Redirect{Redirect: &agentpb.Redirect{
		LeaderRpcAddr: leader.RPCAddr, Reason: reason,
	}}})
	return nil
}

// commitReport commits the agent's instances when they changed in a way
// that matters (role, version, reachability, links), not on every
// heartbeat: counters live in memory, the log keeps topology.
func (s *Server) commitReport(ctx context.Context, name string, hello *agentpb.Hello, instances []domain.InstanceStatus) {
	cur, err := s.cfg.Raft.State().Agent(name)
	if err != nil {
		return
	}
	host, version, poolers := hello.GetHostname(), hello.GetAgentVersion(), hello.GetPoolerIds()
	targets := agentpb.PoolerTargetsToDomain(hello.GetPoolerTargets())
	if cur.Hostname == host && cur.Version == version && slices.Equal(cur.Poolers, poolers) &&
		maps.EqualFunc(cur.PoolerTargets, targets, slices.Equal) && sameTopology(cur.Instances, instances) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err = s.cfg.Raft.Apply(ctx, fsm.ReportAgentRequest{Name: name, Hostname: host, Version: version,
		Poolers: poolers, PoolerTargets: targets, Instances: instances, ReportedAt: s.cfg.Clock().UTC().Truncate(time.Millisecond)})
	if err != nil {
		s.cfg.Logger.Warn("commit agent report", "agent", name, "error", err)
	}
}

// topology is the part of an instance status worth committing.
type topology struct {
	ID, Engine, Version, Role, System string
	Reachable                         bool
	Links                             []string
	// Preflight is the preflight's summary: it changes on a reconnect at
	// most, and the API refuses executions on what it says.
	Preflight string
}

func topologyOf(list []domain.InstanceStatus) []topology {
	out := make([]topology, 0, len(list))
	for _, in := range list {
		t := topology{ID: in.InstanceID, Engine: string(in.Engine), Version: in.ServerVersion, Role: string(in.Role),
			System: in.SystemIdentifier, Reachable: in.Reachable, Preflight: in.Preflight.Summary()}
		for _, l := range in.Links {
			t.Links = append(t.Links, l.Direction+"/"+l.Kind+"/"+l.Peer+"/"+l.Name)
		}
		slices.Sort(t.Links)
		out = append(out, t)
	}
	return out
}

func sameTopology(a, b []domain.InstanceStatus) bool {
	return reflect.DeepEqual(topologyOf(a), topologyOf(b))
}
