package fsm

import (
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// DecideMigrationRequest records an approver's decision on a migration; the
// endpoint stamped its time.
type DecideMigrationRequest struct{ Approval domain.Approval }

// Type implements Command.
func (DecideMigrationRequest) Type() MessageType { return DecideMigrationType }

// migrationApprovals are the decisions on one migration, in commit order,
// and when it was last submitted for them.
type migrationApprovals struct {
	MigrationID string            `json:"migrationId"`
	Decisions   []domain.Approval `json:"decisions"`
	SubmittedBy string            `json:"submittedBy,omitempty"`
	SubmittedAt time.Time         `json:"submittedAt,omitzero"`
	SubmitNotes string            `json:"submitNotes,omitempty"`
}

// SubmitApprovalRequest records that a migration was submitted for
// approval: the approvers are notified.
type SubmitApprovalRequest struct {
	MigrationID string
	By          string
	At          time.Time
	Notes       string // for the approvers
}

// Type implements Command.
func (SubmitApprovalRequest) Type() MessageType { return SubmitApprovalType }

func (s *State) applySubmitApproval(r SubmitApprovalRequest) error {
	if _, ok := s.migrations[r.MigrationID]; !ok {
		return notFound("migration", r.MigrationID)
	}
	rec := s.approvals[r.MigrationID]
	rec.MigrationID, rec.SubmittedBy, rec.SubmittedAt, rec.SubmitNotes = r.MigrationID, r.By, r.At, r.Notes
	s.approvals[r.MigrationID] = rec
	return nil
}

// Submission returns who last submitted a migration for approval, when,
// and their note for the approvers.
func (s *State) Submission(migrationID string) (by string, at time.Time, notes string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec := s.approvals[migrationID]
	return rec.SubmittedBy, rec.SubmittedAt, rec.SubmitNotes
}

// AllApprovals returns every migration's decisions, by migration id.
func (s *State) AllApprovals() map[string][]domain.Approval {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string][]domain.Approval, len(s.approvals))
	for id, rec := range s.approvals {
		out[id] = append([]domain.Approval(nil), rec.Decisions...)
	}
	return out
}

func (s *State) applyDecideMigration(r DecideMigrationRequest) error {
	a := r.Approval
	m, ok := s.migrations[a.MigrationID]
	if !ok {
		return notFound("migration", a.MigrationID)
	}
	if a.Approver == m.CreatedBy {
		return conflict("%s wrote migration %q and cannot decide on it: another approver must", a.Approver, m.Name)
	}
	rec := s.approvals[a.MigrationID]
	rec.MigrationID = a.MigrationID
	rec.Decisions = append(append([]domain.Approval(nil), rec.Decisions...), a)
	s.approvals[a.MigrationID] = rec
	return nil
}

// withdrawApprovals drops the decisions on a migration whose scripts or
// target changed: they were about another change.
func (s *State) withdrawApprovals(old, updated domain.Migration) {
	if old.MigrationScript != updated.MigrationScript || old.RollbackScript != updated.RollbackScript ||
		old.TargetDatabaseID != updated.TargetDatabaseID {
		delete(s.approvals, old.MigrationID)
	}
}

// Approvals returns the decisions on a migration, oldest first.
func (s *State) Approvals(migrationID string) []domain.Approval {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]domain.Approval(nil), s.approvals[migrationID].Decisions...)
}
