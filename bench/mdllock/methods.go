package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// outcome is how one migration went.
type outcome struct {
	done         time.Time
	lockTimeouts int
	rollback     bool
	note         string
}

// method is one way of running the migration.
type method struct {
	name string
	run  func(ctx context.Context, column string) (outcome, error)
}

// methods are the ways compared, in the table's order.
func (e *env) methods() []method {
	return []method{{"plain mysql", e.viaMySQL}, {"HotSwap", e.viaHotSwap}}
}

// addColumn is the migration.
func addColumn(column string) string { return "ALTER TABLE items ADD COLUMN " + column + " int" }

// viaMySQL runs ADD COLUMN with the mysql client and the server's
// defaults: it waits in the metadata-lock queue for as long as it takes.
func (e *env) viaMySQL(ctx context.Context, column string) (outcome, error) {
	cmd := exec.CommandContext(ctx, "mysql", "--protocol=TCP", "-h", "127.0.0.1", "-P", strconv.Itoa(e.maria.Port()),
		"-u", testbed.MariaDBUser, testbed.MariaDBDatabase, "-e", addColumn(column))
	cmd.Env = append(os.Environ(), "MYSQL_PWD="+e.maria.Password())
	if out, err := cmd.CombinedOutput(); err != nil {
		return outcome{}, fmt.Errorf("mysql: %w: %s", err, out)
	}
	return outcome{done: time.Now()}, nil
}

// viaHotSwap runs ADD COLUMN through HotSwap, default guards, and returns
// when its step ended; it waits for the execution to end to learn whether
// a rollback was decided.
func (e *env) viaHotSwap(ctx context.Context, column string) (outcome, error) {
	m, err := e.api.CreateMigration(ctx, domain.MigrationSpec{Name: "add_" + column, TargetDatabaseID: "bench",
		MigrationScript: addColumn(column) + ";", RollbackScript: "ALTER TABLE items DROP COLUMN " + column + ";",
		Strategy: domain.Direct, RiskLevel: domain.RiskLow})
	if err != nil {
		return outcome{}, err
	}
	started, err := e.api.ExecuteMigration(ctx, m.MigrationID, api.ExecuteRequest{LockTimeoutMs: e.o.lockTimeout.Milliseconds(),
		Monitoring: &domain.MonitorSettings{MonitorWindowSeconds: 3}})
	if err != nil {
		return outcome{}, err
	}
	for {
		ex, err := e.api.GetExecution(ctx, m.MigrationID, started.ExecutionID)
		if err != nil {
			return outcome{}, err
		}
		if ex.Status.Terminal() {
			return hotSwapOutcome(ex), nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hotSwapOutcome reads an ended execution: when its forward step ended,
// the lock timeouts its log counts, and whether it was rolled back.
func hotSwapOutcome(ex domain.Execution) outcome {
	o := outcome{rollback: len(ex.Decisions) > 0 || ex.Status == domain.ExecutionRolledBack}
	for _, s := range ex.Steps {
		if s.Direction == domain.Forward && !s.CompletedAt.IsZero() {
			o.done = s.CompletedAt
		}
	}
	for _, l := range ex.Logs {
		if strings.Contains(l.Message, "lock timeout") && strings.Contains(l.Message, "attempt") {
			o.lockTimeouts++
		}
	}
	if ex.Status != domain.ExecutionSucceeded {
		o.note = fmt.Sprintf("execution %s: %s %s", ex.Status, ex.RollbackReason, ex.ErrorMessage)
	}
	return o
}
