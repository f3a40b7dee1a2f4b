package fsm

import (
	"github.com/hotswap-db/hotswap/internal/domain"
)

// DecideMigrationRequest records an approver's decision on a migration; the
// endpoint stamped its time.
type DecideMigrationRequest struct{ Approval domain.Approval }

// Type implements Command.
func (DecideMigrationRequest) Type() MessageType { return DecideMigrationType }

// migrationApprovals are the decisions on one migration, in commit order.
type migrationApprovals struct {
	MigrationID string            `json:"migrationId"`
	Decisions   []domain.Approval `json:"decisions"`
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
