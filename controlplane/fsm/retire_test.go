package fsm

import (
	"errors"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/domain"
)

func TestDeleteDatabaseHistory(t *testing.T) {
	f := New(nil)
	seed(t, f)
	run := domain.Execution{ExecutionID: "exec-1", MigrationID: "mig-1", DatabaseID: "db-1", Status: domain.ExecutionPending}
	if err := apply(t, f, 20, CreateExecutionRequest{Execution: run}); err != nil {
		t.Fatal(err)
	}
	if err := apply(t, f, 21, DeleteDatabaseHistoryRequest{DatabaseID: "db-1"}); !errors.Is(err, ErrConflict) ||
		!strings.Contains(err.Error(), "exec-1") {
		t.Fatalf("delete with a Pending execution = %v, want a conflict naming exec-1", err)
	}
	if _, err := f.State().Database("db-1"); err != nil {
		t.Fatalf("a refused delete removed the database: %v", err)
	}
	run.Status = domain.ExecutionSucceeded
	f.State().executions["exec-1"] = run // as if it had run to the end
	if err := apply(t, f, 22, DeleteDatabaseRequest{DatabaseID: "db-1"}); !errors.Is(err, ErrConflict) ||
		!strings.Contains(err.Error(), "--force") {
		t.Errorf("plain delete = %v, want a conflict that points to --force", err)
	}
	if err := apply(t, f, 23, DeleteDatabaseHistoryRequest{DatabaseID: "db-1"}); err != nil {
		t.Fatalf("delete with history: %v", err)
	}
	st := f.State()
	_, dbErr := st.Database("db-1")
	_, migErr := st.Migration("mig-1")
	_, execErr := st.Execution("exec-1")
	if !errors.Is(dbErr, ErrNotFound) || !errors.Is(migErr, ErrNotFound) || !errors.Is(execErr, ErrNotFound) ||
		len(st.Migrations(MigrationFilter{})) != 0 {
		t.Errorf("after delete: database %v, migration %v, execution %v, %d migrations; want all gone", dbErr, migErr,
			execErr, len(st.Migrations(MigrationFilter{})))
	}
	if err := apply(t, f, 24, DeleteDatabaseHistoryRequest{DatabaseID: "db-1"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete of a gone database = %v, want not found", err)
	}
}

func TestFindByNameOrPrefix(t *testing.T) {
	f := New(nil)
	seed(t, f)
	st := f.State()
	st.migrations["mig-7f8a9b1c-0000"] = domain.Migration{MigrationID: "mig-7f8a9b1c-0000", Name: "add_nick", TargetDatabaseID: "db-1"}
	st.migrations["mig-7f8a0000-0000"] = domain.Migration{MigrationID: "mig-7f8a0000-0000", Name: "other", TargetDatabaseID: "db-1"}
	for _, tc := range []struct {
		ref, want string
		err       error
	}{
		{"add_nick", "mig-7f8a9b1c-0000", nil}, {"7f8a9b", "mig-7f8a9b1c-0000", nil}, {"mig-7f8a9b", "mig-7f8a9b1c-0000", nil},
		{"mig-1", "mig-1", nil}, {"a", "mig-1", nil}, {"7f8a", "", ErrConflict}, {"7f8", "", ErrNotFound}, {"beef", "", ErrNotFound},
	} {
		m, err := st.FindMigration(tc.ref)
		if m.MigrationID != tc.want || !errors.Is(err, tc.err) && (tc.err != nil || err != nil) {
			t.Errorf("FindMigration(%q) = %q, %v; want %q, %v", tc.ref, m.MigrationID, err, tc.want, tc.err)
		}
	}
	if _, err := st.FindMigration("7f8a"); err == nil || !strings.Contains(err.Error(), "mig-7f8a0000-0000 (other)") {
		t.Errorf("ambiguous prefix: %v, want the candidates listed", err)
	}
}
