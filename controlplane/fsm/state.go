// Package fsm is the control plane's replicated state machine: the typed
// commands committed through Raft, the in-memory state they build, and its
// snapshots. It only decodes and writes: times and ids are chosen by the
// caller before a command is committed, so every server computes the same
// state from the same log.
package fsm

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// Errors returned by commands and look-ups. Endpoints map them to HTTP codes.
var (
	ErrNotFound = errors.New("fsm: not found")
	ErrConflict = errors.New("fsm: conflict")
)

// stateError is a refusal with a message for the user; errors.Is matches
// its kind (ErrNotFound or ErrConflict) without the kind's text in the message.
type stateError struct {
	msg  string
	kind error
}

func (e *stateError) Error() string { return e.msg }
func (e *stateError) Unwrap() error { return e.kind }

func notFound(kind, id string) error {
	return &stateError{msg: fmt.Sprintf("%s %q not found", kind, id), kind: ErrNotFound}
}

func conflict(format string, a ...any) error {
	return &stateError{msg: fmt.Sprintf(format, a...), kind: ErrConflict}
}

// agentRecord is an agent with the hash of its token, which never leaves
// the state in an API response.
type agentRecord struct {
	Agent     domain.Agent `json:"agent"`
	TokenHash string       `json:"tokenHash"`
}

// tokenRecord is an API token with its hash.
type tokenRecord struct {
	Token domain.APIToken `json:"token"`
	Hash  string          `json:"hash"`
}

// State is the committed state. Records are replaced, never changed in
// place, so the copies it hands out are safe to read without a lock.
type State struct {
	mu         sync.RWMutex
	servers    map[string]domain.Server
	tokens     map[string]tokenRecord // by token id
	agents     map[string]agentRecord // by name
	databases  map[string]domain.Database
	migrations map[string]domain.Migration
	executions map[string]domain.Execution
	snapshots  map[string][]domain.Snapshot // by execution id
	users      map[string]userRecord        // by username
	signingKey signingKey
	approvals  map[string]migrationApprovals // by migration id
	auditLog   []domain.AuditEntry           // append-only, hash-chained
	// auditAnchor is where auditLog starts once older entries were archived.
	auditAnchor auditAnchor
	// index is the Raft index of the entry being applied: commands use it
	// as a version and as the fencing token of a lock.
	index uint64
}

func newState() *State {
	return &State{
		servers:    map[string]domain.Server{},
		tokens:     map[string]tokenRecord{},
		agents:     map[string]agentRecord{},
		databases:  map[string]domain.Database{},
		migrations: map[string]domain.Migration{},
		executions: map[string]domain.Execution{},
		snapshots:  map[string][]domain.Snapshot{},
		users:      map[string]userRecord{},
		approvals:  map[string]migrationApprovals{},
	}
}

// Servers returns the known servers and their addresses, by id.
func (s *State) Servers() map[string]domain.Server {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string]domain.Server, len(s.servers))
	for k, v := range s.servers {
		out[k] = v
	}
	return out
}

// HasAPITokens reports whether any API token exists (false on a new cluster).
func (s *State) HasAPITokens() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.tokens) > 0
}

// APITokenByHash finds the API token whose hash is hash, revoked or not:
// the caller checks Usable.
func (s *State) APITokenByHash(hash string) (domain.APIToken, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, t := range s.tokens {
		if sameHash(t.Hash, hash) {
			return t.Token, true
		}
	}
	return domain.APIToken{}, false
}

// sameHash compares two token hashes in constant time, so how long a
// look-up takes says nothing about how close a guess came.
func sameHash(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// AgentByTokenHash finds the agent whose token hashes to hash.
func (s *State) AgentByTokenHash(hash string) (domain.Agent, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, a := range s.agents {
		if sameHash(a.TokenHash, hash) {
			return a.Agent, true
		}
	}
	return domain.Agent{}, false
}

// Agent returns the agent called name.
func (s *State) Agent(name string) (domain.Agent, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.agents[name]
	if !ok {
		return domain.Agent{}, notFound("agent", name)
	}
	return a.Agent, nil
}

// ReportedInstance returns what an instance's agent last reported of it
// (committed), when the instance was reachable: a planner's topology.
func (s *State) ReportedInstance(ref domain.InstanceRef) (domain.InstanceStatus, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.agents[ref.Agent]
	if !ok {
		return domain.InstanceStatus{}, false
	}
	st, ok := a.Agent.Instance(ref.InstanceID)
	return st, ok && st.Reachable
}

// AgentNames returns every agent's name, sorted: a list pages over them
// without copying every agent.
func (s *State) AgentNames() []string {
	s.mu.RLock()
	out := make([]string, 0, len(s.agents))
	for name := range s.agents {
		out = append(out, name)
	}
	s.mu.RUnlock()
	slices.Sort(out)
	return out
}

// Agents returns every agent, sorted by name.
func (s *State) Agents() []domain.Agent {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]domain.Agent, 0, len(s.agents))
	for _, a := range s.agents {
		out = append(out, a.Agent)
	}
	slices.SortFunc(out, func(a, b domain.Agent) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Database returns the database with id, or with that name.
func (s *State) Database(idOrName string) (domain.Database, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if d, ok := s.databases[idOrName]; ok {
		return d, nil
	}
	for _, d := range s.databases {
		if d.Name == idOrName {
			return d, nil
		}
	}
	return domain.Database{}, notFound("database", idOrName)
}

// Databases returns every database, oldest first.
func (s *State) Databases() []domain.Database {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]domain.Database, 0, len(s.databases))
	for _, d := range s.databases {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b domain.Database) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.DatabaseID, b.DatabaseID)
	})
	return out
}

// Migration returns the migration with id.
func (s *State) Migration(id string) (domain.Migration, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m, ok := s.migrations[id]
	if !ok {
		return domain.Migration{}, notFound("migration", id)
	}
	return m, nil
}

// MigrationFilter selects migrations in Migrations.
type MigrationFilter struct {
	Status     domain.MigrationStatus // empty: any
	DatabaseID string                 // empty: any
}

// Migrations returns the migrations matching f, oldest first.
func (s *State) Migrations(f MigrationFilter) []domain.Migration {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []domain.Migration{}
	for _, m := range s.migrations {
		if (f.Status == "" || m.Status == f.Status) && (f.DatabaseID == "" || m.TargetDatabaseID == f.DatabaseID) {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b domain.Migration) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.MigrationID, b.MigrationID)
	})
	return out
}
