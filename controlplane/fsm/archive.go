package fsm

import (
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// auditAnchor is the last archived audit entry: the log kept in the state
// goes on from it, and its hash is the first kept entry's PrevHash, so the
// chain still verifies from there.
type auditAnchor struct {
	ThroughSeq uint64 `json:"throughSeq"`
	Hash       string `json:"hash"`
}

// ArchiveAuditRequest drops the audit entries through ThroughSeq from the
// state, once an operator has saved them to a file. LastHash proves the
// file holds exactly those entries; only entries older than Before (the
// retention the leader keeps) may go.
type ArchiveAuditRequest struct {
	ThroughSeq uint64
	LastHash   string
	Before     time.Time
}

// Type implements Command.
func (ArchiveAuditRequest) Type() MessageType { return ArchiveAuditType }

func (s *State) applyArchiveAudit(r ArchiveAuditRequest) error {
	first := s.auditAnchor.ThroughSeq + 1
	last := s.auditAnchor.ThroughSeq + uint64(len(s.auditLog))
	if r.ThroughSeq < first || r.ThroughSeq > last {
		return conflict("audit entry %d is not in the log kept here (entries %d to %d)", r.ThroughSeq, first, last)
	}
	e := s.auditLog[r.ThroughSeq-first]
	switch {
	case e.Hash != r.LastHash:
		return conflict("audit entry %d has hash %s, not %s: the archive does not hold these entries", r.ThroughSeq, e.Hash, r.LastHash)
	case !e.At.Before(r.Before):
		return conflict("audit entry %d (%s) is within the retention period (entries from %s on are kept)", r.ThroughSeq,
			e.At.Format(time.RFC3339), r.Before.Format(time.RFC3339))
	}
	kept := make([]domain.AuditEntry, len(s.auditLog)-int(r.ThroughSeq-first+1))
	copy(kept, s.auditLog[r.ThroughSeq-first+1:])
	s.auditLog, s.auditAnchor = kept, auditAnchor{ThroughSeq: r.ThroughSeq, Hash: e.Hash}
	return nil
}

// AuditAnchor returns the last archived entry's sequence number and hash
// (0 and "" before any archive): the chain verifies from that hash.
func (s *State) AuditAnchor() (uint64, string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.auditAnchor.ThroughSeq, s.auditAnchor.Hash
}
