package fsm

import "github.com/hotswap-db/hotswap/internal/domain"

// DeleteDatabaseHistoryType removes a database with the migrations that
// target it and their executions, since type 46.
const DeleteDatabaseHistoryType MessageType = 46

// DeleteDatabaseHistoryRequest removes a database whose migrations have
// all finished, with those migrations, their executions, approvals and
// kept snapshots. The audit log keeps what happened to them, and each
// instance's history table keeps what was applied.
type DeleteDatabaseHistoryRequest struct{ DatabaseID string }

// Type implements Command.
func (DeleteDatabaseHistoryRequest) Type() MessageType { return DeleteDatabaseHistoryType }

func (s *State) applyDeleteDatabaseHistory(r DeleteDatabaseHistoryRequest) error {
	d, ok := s.databases[r.DatabaseID]
	if !ok {
		return notFound("database", r.DatabaseID)
	}
	gone := map[string]bool{}
	for _, m := range s.migrations {
		if m.TargetDatabaseID == d.DatabaseID {
			gone[m.MigrationID] = true
		}
	}
	if err := s.checkRetirable(d, gone); err != nil {
		return err
	}
	for id, e := range s.executions {
		if gone[e.MigrationID] {
			delete(s.executions, id)
			delete(s.snapshots, id)
		}
	}
	for id := range gone {
		delete(s.migrations, id)
		delete(s.approvals, id)
	}
	delete(s.databases, d.DatabaseID)
	return nil
}

// checkRetirable refuses while an execution on the database is not over,
// or while a migration of another database depends on one of gone.
func (s *State) checkRetirable(d domain.Database, gone map[string]bool) error {
	for _, e := range s.executions {
		if (gone[e.MigrationID] || e.DatabaseID == d.DatabaseID) && !e.Status.Terminal() {
			return conflict("execution %s on database %q is %s: wait for it to end, or roll it back", e.ExecutionID, d.Name, e.Status)
		}
	}
	for _, m := range s.migrations {
		if gone[m.MigrationID] {
			continue
		}
		for _, dep := range m.Dependencies {
			if gone[dep] {
				return conflict("migration %q of another database depends on %q of database %q", m.Name,
					s.migrations[dep].Name, d.Name)
			}
		}
	}
	return nil
}
