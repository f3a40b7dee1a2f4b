package fsm

import (
	"slices"
	"strings"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// minPrefix is the shortest id prefix a look-up accepts, so that a typo
// of one or two characters is not read as a short id.
const minPrefix = 4

// FindMigration returns the migration a person names: its full id, its
// name, or a unique prefix of its id (with or without "mig-"), as git
// resolves a short commit id. None is ErrNotFound; more than one is
// ErrConflict, with the candidates in the message.
func (s *State) FindMigration(ref string) (domain.Migration, error) {
	if m, err := s.Migration(ref); err == nil {
		return m, nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var byName, byPrefix []domain.Migration
	for _, m := range s.migrations {
		switch {
		case m.Name == ref:
			byName = append(byName, m)
		case idHasPrefix(m.MigrationID, "mig-", ref):
			byPrefix = append(byPrefix, m)
		}
	}
	if len(byName) == 0 {
		byName = byPrefix
	}
	return pickOne(byName, "migration", ref, func(m domain.Migration) string {
		return m.MigrationID + " (" + m.Name + ")"
	})
}

// FindExecution returns the execution with the full id ref or with the
// unique id prefix ref (with or without "exec-"). None is ErrNotFound;
// more than one is ErrConflict, with the candidates in the message.
func (s *State) FindExecution(ref string) (domain.Execution, error) {
	if e, err := s.Execution(ref); err == nil {
		return e, nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var found []domain.Execution
	for _, e := range s.executions {
		if idHasPrefix(e.ExecutionID, "exec-", ref) {
			found = append(found, e)
		}
	}
	return pickOne(found, "execution", ref, func(e domain.Execution) string {
		return e.ExecutionID + " (" + string(e.Status) + ")"
	})
}

// idHasPrefix reports whether ref is a short form of id: a prefix of it,
// or of the part after its kind's prefix, long enough to mean something.
func idHasPrefix(id, kind, ref string) bool {
	short := strings.TrimPrefix(ref, kind)
	if len(short) < minPrefix {
		return false
	}
	return strings.HasPrefix(id, ref) || strings.HasPrefix(strings.TrimPrefix(id, kind), ref)
}

// pickOne is the single match of a look-up, or the error that says why not.
func pickOne[T any](found []T, kind, ref string, describe func(T) string) (T, error) {
	var zero T
	switch len(found) {
	case 0:
		return zero, notFound(kind, ref)
	case 1:
		return found[0], nil
	}
	names := make([]string, len(found))
	for i, f := range found {
		names[i] = describe(f)
	}
	slices.Sort(names)
	return zero, conflict("%q names %d %ss; use more of the id: %s", ref, len(found), kind,
		strings.Join(names, ", "))
}
