package fsm

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// OperatorActionRequest records something an operator did to the cluster
// itself, outside the state machine (a restore, a leadership transfer), so
// that the audit log shows it. It changes nothing else.
type OperatorActionRequest struct {
	Name   string // the action: "snapshot_restore", "leadership_transfer"
	Detail string // what it was about: the snapshot's index, the new leader
}

// Type implements Command.
func (OperatorActionRequest) Type() MessageType { return OperatorActionType }

func (s *State) applyOperatorAction(r OperatorActionRequest) error {
	if r.Name == "" {
		return errors.New("operator action: no name")
	}
	return nil
}

// ErrBadSnapshot is returned for a snapshot whose state does not decode.
var ErrBadSnapshot = errors.New("the snapshot's state does not decode")

// StateSummary counts what a state holds, for an operator to check a
// snapshot before and after restoring it.
type StateSummary struct {
	Servers, Agents, Databases, Migrations, Executions, Users, AuditEntries int
}

// Summary counts what the state holds.
func (s *State) Summary() StateSummary {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return StateSummary{Servers: len(s.servers), Agents: len(s.agents), Databases: len(s.databases),
		Migrations: len(s.migrations), Executions: len(s.executions), Users: len(s.users), AuditEntries: len(s.auditLog)}
}

// RebaseSnapshot decodes a snapshot's state (refusing one that does not
// decode), replaces its servers with servers, and encodes it again. A state
// restored onto a cluster keeps that cluster's own members and addresses:
// the saved cluster's may not exist any more.
func RebaseSnapshot(data []byte, servers map[string]domain.Server) ([]byte, StateSummary, error) {
	st, err := readSnapshot(bytes.NewReader(data))
	if err != nil {
		return nil, StateSummary{}, fmt.Errorf("%w: %w", ErrBadSnapshot, err)
	}
	st.servers = make(map[string]domain.Server, len(servers))
	copyMap(st.servers, servers)
	var buf bytes.Buffer
	if err := (&snapshot{state: st}).write(&buf); err != nil {
		return nil, StateSummary{}, fmt.Errorf("encode the rebased state: %w", err)
	}
	return buf.Bytes(), st.Summary(), nil
}
