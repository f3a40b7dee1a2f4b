package agentlink

import (
	"sync"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/proto/agentpb"
)

// presence is the leader's live registry of agent sessions. It is owned by
// the Server and changed only through its methods.
type presence struct {
	mu       sync.Mutex
	sessions map[string]*session
	last     map[string]domain.AgentPresence // kept after a session ends
}

// session is one agent's open stream.
type session struct {
	id          uint64
	cancel      func()
	connectedAt time.Time
	stream      sender
	sendMu      sync.Mutex // a gRPC stream's Send is not safe for concurrent use
}

// sender is the sending half of a session's stream.
type sender interface {
	Send(*agentpb.ServerMessage) error
}

func (s *session) send(m *agentpb.ServerMessage) error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	return s.stream.Send(m)
}

// current returns the agent's open session.
func (p *presence) current(agent string) (*session, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.sessions[agent]
	return s, ok
}

func newPresence() *presence {
	return &presence{sessions: map[string]*session{}, last: map[string]domain.AgentPresence{}}
}

// open registers a new session for agent, ending any older one of the same
// agent (an agent that reconnects before its old stream timed out).
func (p *presence) open(agent string, s *session, instances []domain.InstanceStatus) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if old, ok := p.sessions[agent]; ok {
		old.cancel()
	}
	p.sessions[agent] = s
	p.last[agent] = domain.AgentPresence{Connected: true, ConnectedAt: s.connectedAt, LastSeen: s.connectedAt, Instances: instances}
}

// heartbeat records what a live session reported.
func (p *presence) heartbeat(agent string, s *session, at time.Time, instances []domain.InstanceStatus) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sessions[agent] != s {
		return
	}
	cur := p.last[agent]
	cur.LastSeen, cur.Instances = at, instances
	p.last[agent] = cur
}

// close marks the agent disconnected if s is still its current session.
func (p *presence) close(agent string, s *session) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sessions[agent] != s {
		return
	}
	delete(p.sessions, agent)
	cur := p.last[agent]
	cur.Connected = false
	p.last[agent] = cur
}

// closeAll ends every session (leadership lost).
func (p *presence) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.sessions {
		s.cancel()
	}
}

// snapshot copies the registry.
func (p *presence) snapshot() map[string]domain.AgentPresence {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]domain.AgentPresence, len(p.last))
	for k, v := range p.last {
		out[k] = v
	}
	return out
}

// connected counts open sessions.
func (p *presence) connected() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sessions)
}
