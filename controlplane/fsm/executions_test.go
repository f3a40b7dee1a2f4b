package fsm

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

func newExecution(id string, queued bool) domain.Execution {
	return domain.Execution{ExecutionID: id, MigrationID: "mig-1", DatabaseID: "db-1", Status: domain.ExecutionPending,
		Queued: queued, Steps: []domain.Step{{StepID: "s1", Direction: domain.Forward, Status: domain.StepPending}},
		CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func TestExecutionLockAndFencing(t *testing.T) {
	f := New(nil)
	seed(t, f)
	if err := apply(t, f, 20, CreateExecutionRequest{Execution: newExecution("e1", false)}); err != nil {
		t.Fatal(err)
	}
	// A second execution on the same database is refused unless queued.
	if err := apply(t, f, 21, CreateExecutionRequest{Execution: newExecution("e2", false)}); !errors.Is(err, ErrConflict) {
		t.Fatalf("second execution = %v, want conflict", err)
	}
	// Its script cannot change while the execution waits.
	edit := UpdateMigrationRequest{Migration: domain.Migration{MigrationID: "mig-1", Name: "a", TargetDatabaseID: "db-1", MigrationScript: "changed"}}
	if err := apply(t, f, 21, edit); !errors.Is(err, ErrConflict) {
		t.Fatalf("editing a migration with a pending execution = %v, want conflict", err)
	}
	// The same migration again, even queued, would apply it twice.
	if err := apply(t, f, 22, CreateExecutionRequest{Execution: newExecution("e2", true)}); !errors.Is(err, ErrConflict) {
		t.Fatalf("second execution of the same migration = %v, want conflict", err)
	}
	e2 := newExecution("e2", true)
	e2.MigrationID = "mig-2"
	if err := apply(t, f, 22, CreateExecutionRequest{Execution: e2}); err != nil {
		t.Fatalf("queued execution = %v", err)
	}
	if err := apply(t, f, 23, StartExecutionRequest{ExecutionID: "e1", StartedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	e1, _ := f.State().Execution("e1")
	if e1.FencingToken != 23 || e1.Status != domain.ExecutionRunning {
		t.Fatalf("started execution = token %d status %s, want 23 Running", e1.FencingToken, e1.Status)
	}
	if m, _ := f.State().Migration("mig-1"); m.Status != domain.MigrationInProgress {
		t.Errorf("migration status = %s, want InProgress", m.Status)
	}
	// The queued one cannot take the lock while e1 holds it.
	if err := apply(t, f, 24, StartExecutionRequest{ExecutionID: "e2"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("start while locked = %v, want conflict", err)
	}
	// An update computed from an old version is refused.
	stale := e1
	stale.Version = 1
	if err := apply(t, f, 25, UpdateExecutionRequest{Execution: stale}); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale update = %v, want conflict", err)
	}
	// Finishing releases the lock and sets the migration's status.
	done := e1
	done.Status = domain.ExecutionSucceeded
	if err := apply(t, f, 26, UpdateExecutionRequest{Execution: done, AppendLogs: []domain.LogEntry{{Message: "done"}}}); err != nil {
		t.Fatal(err)
	}
	if _, held := f.State().LockHolder("db-1"); held {
		t.Error("lock still held after success")
	}
	if m, _ := f.State().Migration("mig-1"); m.Status != domain.MigrationSucceeded {
		t.Errorf("migration status = %s, want Succeeded", m.Status)
	}
	if err := apply(t, f, 27, StartExecutionRequest{ExecutionID: "e2"}); err != nil {
		t.Fatalf("queued start after release = %v", err)
	}
	// Rolling back a succeeded execution needs the lock, which e2 holds now.
	if err := apply(t, f, 28, RequestRollbackRequest{ExecutionID: "e1", Reason: "r", By: "me"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("rollback while another holds the lock = %v, want conflict", err)
	}

	// Executions survive a snapshot.
	g := New(nil)
	if err := g.Restore(io.NopCloser(bytes.NewReader(snapshotBytes(t, f)))); err != nil {
		t.Fatal(err)
	}
	if got, err := g.State().Execution("e1"); err != nil || got.Logs[len(got.Logs)-1].Message != "done" {
		t.Errorf("restored e1 = %+v, %v", got, err)
	}
	if h, held := g.State().LockHolder("db-1"); !held || h.ExecutionID != "e2" {
		t.Errorf("restored lock holder = %v %v, want e2", h.ExecutionID, held)
	}
}
