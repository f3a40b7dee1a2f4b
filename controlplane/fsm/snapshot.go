package fsm

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/raft"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// snapshotMagic opens every snapshot; the byte after it is the format version.
const (
	snapshotMagic   = "HSWPSNAP"
	snapshotVersion = 1
)

// recordType tags each record in a snapshot. Like MessageType, values are
// only ever added.
type recordType uint8

const (
	serverRecord    recordType = 1
	tokenRecordType recordType = 2
	agentRecordType recordType = 3
	databaseRecord  recordType = 4
	migrationRecord recordType = 5
	executionRecord recordType = 6
	snapshotsRecord recordType = 7
	userRecordType  recordType = 8
	signingKeyType  recordType = 9
	approvalsRecord recordType = 10
	auditRecord     recordType = 11
	auditAnchorType recordType = 12
)

type snapshot struct{ state *State }

// Persist writes the header, then one (type, length, JSON) record per object.
func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	w := bufio.NewWriter(sink)
	err := s.write(w)
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("persist snapshot: %w", err)
	}
	return sink.Close()
}

func (s *snapshot) write(w io.Writer) error {
	if _, err := w.Write(append([]byte(snapshotMagic), snapshotVersion)); err != nil {
		return err
	}
	steps := []func(io.Writer) error{
		persistAll(serverRecord, s.state.servers),
		persistAll(tokenRecordType, s.state.tokens),
		persistAll(agentRecordType, s.state.agents),
		persistAll(databaseRecord, s.state.databases),
		persistAll(migrationRecord, s.state.migrations),
		persistAll(executionRecord, s.state.executions),
		persistSnapshots(s.state.snapshots),
		persistAll(userRecordType, s.state.users),
		persistSigningKey(s.state.signingKey),
		persistAll(approvalsRecord, s.state.approvals),
		persistAuditAnchor(s.state.auditAnchor),
		persistAudit(s.state.auditLog),
	}
	for _, persist := range steps {
		if err := persist(w); err != nil {
			return err
		}
	}
	return nil
}

// Release implements raft.FSMSnapshot.
func (s *snapshot) Release() {}

func persistAll[V any](t recordType, records map[string]V) func(io.Writer) error {
	return func(w io.Writer) error {
		for _, r := range records {
			if err := writeRecord(w, t, r); err != nil {
				return fmt.Errorf("record type %d: %w", t, err)
			}
		}
		return nil
	}
}

func writeRecord(w io.Writer, t recordType, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var hdr [5]byte
	hdr[0] = byte(t)
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(body)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err = w.Write(body)
	return err
}

// restoreFuncs decodes one record of each type into the state.
var restoreFuncs = map[recordType]func(*State, []byte) error{
	serverRecord: restoreInto(func(s *State) map[string]domain.Server { return s.servers },
		func(v domain.Server) string { return v.ID }),
	tokenRecordType: restoreInto(func(s *State) map[string]tokenRecord { return s.tokens },
		func(v tokenRecord) string { return v.Token.TokenID }),
	agentRecordType: restoreInto(func(s *State) map[string]agentRecord { return s.agents },
		func(v agentRecord) string { return v.Agent.Name }),
	databaseRecord: restoreInto(func(s *State) map[string]domain.Database { return s.databases },
		func(v domain.Database) string { return v.DatabaseID }),
	migrationRecord: restoreInto(func(s *State) map[string]domain.Migration { return s.migrations },
		func(v domain.Migration) string { return v.MigrationID }),
	executionRecord: restoreInto(func(s *State) map[string]domain.Execution { return s.executions },
		func(v domain.Execution) string { return v.ExecutionID }),
	userRecordType: restoreInto(func(s *State) map[string]userRecord { return s.users },
		func(v userRecord) string { return v.User.Username }),
	approvalsRecord: restoreInto(func(s *State) map[string]migrationApprovals { return s.approvals },
		func(v migrationApprovals) string { return v.MigrationID }),
	auditRecord: func(s *State, body []byte) error {
		var e domain.AuditEntry
		if err := json.Unmarshal(body, &e); err != nil {
			return err
		}
		s.auditLog = append(s.auditLog, e)
		return nil
	},
	signingKeyType:  func(s *State, body []byte) error { return json.Unmarshal(body, &s.signingKey) },
	auditAnchorType: func(s *State, body []byte) error { return json.Unmarshal(body, &s.auditAnchor) },
	snapshotsRecord: func(s *State, body []byte) error {
		var v executionSnapshots
		if err := json.Unmarshal(body, &v); err != nil {
			return err
		}
		s.snapshots[v.ExecutionID] = v.Snapshots
		return nil
	},
}

func persistSnapshots(all map[string][]domain.Snapshot) func(io.Writer) error {
	return func(w io.Writer) error {
		for id, snaps := range all {
			if err := writeRecord(w, snapshotsRecord, executionSnapshots{ExecutionID: id, Snapshots: snaps}); err != nil {
				return fmt.Errorf("record type %d: %w", snapshotsRecord, err)
			}
		}
		return nil
	}
}

func persistSigningKey(k signingKey) func(io.Writer) error {
	return func(w io.Writer) error {
		if len(k.Key) == 0 {
			return nil
		}
		if err := writeRecord(w, signingKeyType, k); err != nil {
			return fmt.Errorf("record type %d: %w", signingKeyType, err)
		}
		return nil
	}
}

// persistAuditAnchor writes where the audit log starts, once archived.
func persistAuditAnchor(a auditAnchor) func(io.Writer) error {
	return func(w io.Writer) error {
		if a.ThroughSeq == 0 {
			return nil
		}
		if err := writeRecord(w, auditAnchorType, a); err != nil {
			return fmt.Errorf("record type %d: %w", auditAnchorType, err)
		}
		return nil
	}
}

// persistAudit writes the audit log in order, so the chain restores as it was.
func persistAudit(entries []domain.AuditEntry) func(io.Writer) error {
	return func(w io.Writer) error {
		for _, e := range entries {
			if err := writeRecord(w, auditRecord, e); err != nil {
				return fmt.Errorf("record type %d: %w", auditRecord, err)
			}
		}
		return nil
	}
}

func restoreInto[V any](m func(*State) map[string]V, key func(V) string) func(*State, []byte) error {
	return func(s *State, body []byte) error {
		var v V
		if err := json.Unmarshal(body, &v); err != nil {
			return err
		}
		m(s)[key(v)] = v
		return nil
	}
}

func readSnapshot(r io.Reader) (*State, error) {
	br := bufio.NewReader(r)
	head := make([]byte, len(snapshotMagic)+1)
	if _, err := io.ReadFull(br, head); err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	if string(head[:len(snapshotMagic)]) != snapshotMagic || head[len(snapshotMagic)] != snapshotVersion {
		return nil, errors.New("fsm: not a snapshot of a known version")
	}
	st := newState()
	for {
		t, body, err := readRecord(br)
		if errors.Is(err, io.EOF) {
			return st, nil
		}
		if err != nil {
			return nil, err
		}
		restore, ok := restoreFuncs[t]
		if !ok {
			return nil, fmt.Errorf("fsm: unknown snapshot record type %d", t)
		}
		if err := restore(st, body); err != nil {
			return nil, fmt.Errorf("record type %d: %w", t, err)
		}
	}
}

func readRecord(r io.Reader) (recordType, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:1]); err != nil {
		return 0, nil, err // io.EOF at a record boundary ends the snapshot
	}
	if _, err := io.ReadFull(r, hdr[1:]); err != nil {
		return 0, nil, fmt.Errorf("read record header: %w", err)
	}
	body := make([]byte, binary.BigEndian.Uint32(hdr[1:]))
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, fmt.Errorf("read record: %w", err)
	}
	return recordType(hdr[0]), body, nil
}
