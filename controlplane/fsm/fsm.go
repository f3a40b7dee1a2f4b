package fsm

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// FSM applies committed commands to the State. It implements raft.FSM.
type FSM struct {
	state     *State
	lastIndex atomic.Uint64
	onApply   func(index uint64)
	counters  appliedCounters
}

var _ raft.FSM = (*FSM)(nil)

// New returns an FSM over empty state. onApply, when not nil, is called
// after each applied entry with its index (used to wait for read-your-writes).
func New(onApply func(index uint64)) *FSM {
	return &FSM{state: newState(), onApply: onApply}
}

// State returns the state the FSM builds. It is safe for concurrent reads.
func (f *FSM) State() *State { return f.state }

// LastApplied returns the index of the last entry applied.
func (f *FSM) LastApplied() uint64 { return f.lastIndex.Load() }

// Apply applies one log entry. The result is nil or the command's error.
func (f *FSM) Apply(l *raft.Log) any {
	defer f.applied(l.Index)
	if l.Type != raft.LogCommand || len(l.Data) == 0 {
		return nil
	}
	return f.applyData(l.Index, l.AppendedAt, l.Data)
}

// applyData applies one command and appends its audit entry: a command an
// API caller asked for arrives wrapped (AuditedType) with who asked; the
// control plane's own commands are the system's, stamped with the time the
// leader appended them (part of the replicated entry, so the same on every
// server).
func (f *FSM) applyData(index uint64, appended time.Time, data []byte) error {
	t := MessageType(data[0])
	f.counters.add(t, len(data))
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	f.state.index = index
	if t == AuditedType {
		return f.state.applyAudited(data[1:])
	}
	apply, ok := commands[t]
	if !ok {
		panic(fmt.Sprintf("fsm: unknown command type %d", t))
	}
	err := apply(f.state, data[1:])
	if !unaudited[t] {
		f.state.audit(domain.AuditEntry{At: appended.UTC(), Actor: "system"}, t, data[1:], err)
	}
	return err
}

func (f *FSM) applied(index uint64) {
	f.lastIndex.Store(index)
	if f.onApply != nil {
		f.onApply(index)
	}
}

// Snapshot captures the state for a snapshot. Records are replaced, never
// changed in place, so a copy of the maps is a consistent view.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	f.state.mu.RLock()
	defer f.state.mu.RUnlock()
	return &snapshot{state: f.state.copyLocked()}, nil
}

// Restore replaces the state with a snapshot's.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	st, err := readSnapshot(rc)
	if err != nil {
		return fmt.Errorf("restore snapshot: %w", err)
	}
	f.state.mu.Lock()
	defer f.state.mu.Unlock()
	f.state.servers, f.state.tokens, f.state.agents = st.servers, st.tokens, st.agents
	f.state.databases, f.state.migrations, f.state.executions = st.databases, st.migrations, st.executions
	f.state.snapshots = st.snapshots
	f.state.users, f.state.signingKey, f.state.approvals = st.users, st.signingKey, st.approvals
	f.state.auditLog, f.state.auditAnchor = st.auditLog, st.auditAnchor
	return nil
}

func (s *State) copyLocked() *State {
	c := newState()
	copyMap(c.servers, s.servers)
	copyMap(c.tokens, s.tokens)
	copyMap(c.agents, s.agents)
	copyMap(c.databases, s.databases)
	copyMap(c.migrations, s.migrations)
	copyMap(c.executions, s.executions)
	copyMap(c.snapshots, s.snapshots)
	copyMap(c.users, s.users)
	c.signingKey = s.signingKey
	copyMap(c.approvals, s.approvals)
	c.auditLog = s.auditLog[:len(s.auditLog):len(s.auditLog)] // appended, never changed in place
	c.auditAnchor = s.auditAnchor
	return c
}

func copyMap[K comparable, V any](dst, src map[K]V) {
	for k, v := range src {
		dst[k] = v
	}
}
