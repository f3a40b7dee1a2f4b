package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/pgbench"
)

const (
	upScript   = "ALTER TABLE demo_accounts ADD COLUMN note text;\nCREATE INDEX CONCURRENTLY demo_accounts_note ON demo_accounts (note);"
	downScript = "DROP INDEX CONCURRENTLY IF EXISTS demo_accounts_note;\nALTER TABLE demo_accounts DROP COLUMN IF EXISTS note;"
)

const (
	// warmUp is how long the application runs before the long transaction.
	warmUp = 3 * time.Second
	// cooldown is how long the application runs after the long transaction
	// ends: the migration finishes and is rolled back under load.
	cooldown = 4 * time.Second
)

// showcase runs the migration under load while a long transaction holds
// the table, then rolls it back, printing what happens as it happens, and
// sums up from pgbench's per-transaction log.
func (s *stack) showcase(ctx context.Context, cfg Config) error {
	load, err := s.startWorkload(ctx, cfg, warmUp+cfg.BlockFor+cooldown)
	if err != nil {
		return fmt.Errorf("application workload: %w", err)
	}
	s.say("==> Application workload: pgbench, %d clients updating demo_accounts for %s", cfg.Clients, load.duration)
	time.Sleep(warmUp)
	base := load.latest()
	s.say("    normal: %.0f tps, average latency %.3f ms (pgbench's last progress report)", base.TPS, base.LatencyMs)
	mig, err := s.api.CreateMigration(ctx, domain.MigrationSpec{Name: "add_note_to_accounts", TargetDatabaseID: "app",
		MigrationScript: upScript, RollbackScript: downScript, Strategy: domain.Direct, RiskLevel: domain.RiskLow})
	if err != nil {
		return fmt.Errorf("create migration: %w", err)
	}
	r, err := s.migrateBlocked(ctx, cfg, load, mig.MigrationID)
	if err != nil {
		return err
	}
	if err := s.rollback(ctx, mig.MigrationID, r.exec.ExecutionID); err != nil {
		return err
	}
	return s.summarize(load, r)
}

// blockedRun is the migration that ran while a long transaction held the
// table.
type blockedRun struct {
	exec       domain.Execution
	executedAt time.Time // when the execution was requested
	released   time.Time // when the long transaction ended
}

// ended is when the migration could last have held up the application:
// when it ended, or when the long transaction did if that was later.
func (r blockedRun) ended() time.Time {
	if r.exec.Steps[0].CompletedAt.After(r.released) {
		return r.exec.Steps[0].CompletedAt
	}
	return r.released
}

// migrateBlocked takes the table with a long transaction, executes the
// migration and follows it until it ends.
func (s *stack) migrateBlocked(ctx context.Context, cfg Config, load *workload, migID string) (blockedRun, error) {
	s.say("==> A long transaction takes the table for %s (a report, a forgotten BEGIN)", cfg.BlockFor)
	released, err := s.block(ctx, cfg.BlockFor)
	if err != nil {
		return blockedRun{}, fmt.Errorf("long transaction: %w", err)
	}
	s.say("==> hotswap migration execute add_note_to_accounts (lock timeout %s)", cfg.LockTimeout)
	r := blockedRun{executedAt: time.Now()}
	started, err := s.api.ExecuteMigration(ctx, migID, api.ExecuteRequest{Strategy: domain.Direct,
		LockTimeoutMs: cfg.LockTimeout.Milliseconds(),
		Monitoring:    &domain.MonitorSettings{MonitorWindowSeconds: 3, BaselineWindowSeconds: 3}})
	if err != nil {
		return blockedRun{}, fmt.Errorf("execute migration: %w", err)
	}
	if r.exec, err = s.follow(ctx, load, migID, started.ExecutionID); err != nil {
		return blockedRun{}, fmt.Errorf("follow execution %s: %w", started.ExecutionID, err)
	}
	r.released = <-released
	return r, nil
}

// block holds ACCESS SHARE on the table for d in the background and
// reports when it let go.
func (s *stack) block(ctx context.Context, d time.Duration) (<-chan time.Time, error) {
	conn, err := pgx.Connect(ctx, s.pg.DSN("app"))
	if err != nil {
		return nil, err
	}
	tx, err := conn.Begin(ctx)
	if err == nil {
		_, err = tx.Exec(ctx, "SELECT count(*) FROM demo_accounts")
	}
	if err != nil {
		conn.Close(ctx)
		return nil, err
	}
	done := make(chan time.Time, 1)
	go func() {
		time.Sleep(d)
		_ = tx.Commit(ctx)
		done <- time.Now()
		conn.Close(ctx)
	}()
	return done, nil
}

// follow prints the execution's progress beside pgbench's figures for the
// last second until the execution ends.
func (s *stack) follow(ctx context.Context, load *workload, migID, execID string) (domain.Execution, error) {
	start := time.Now()
	printed := 0
	for {
		e, err := s.api.GetExecution(ctx, migID, execID)
		if err != nil {
			return e, err
		}
		for ; printed < len(e.Logs); printed++ {
			l := e.Logs[printed]
			s.say("    %5.1fs  [%s] %s", l.Time.Sub(start).Seconds(), l.Level, l.Message)
		}
		app := load.latest()
		s.say("    %5.1fs  app: %5.0f tps, avg %6.3f ms | execution %s, %d%%", time.Since(start).Seconds(), app.TPS, app.LatencyMs, e.Status, e.Progress)
		if e.Status.Terminal() {
			return e, nil
		}
		select {
		case <-ctx.Done():
			return e, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// summarize waits for pgbench's run to end and sums up the blocked
// migration from its per-transaction log.
func (s *stack) summarize(load *workload, r blockedRun) error {
	s.say("==> pgbench's run ends; reading its per-transaction log")
	txns, err := load.finish()
	if err != nil {
		return fmt.Errorf("application workload: %w", err)
	}
	normal := measure(txns, load.started.Add(time.Second), r.executedAt)
	blocked := measure(txns, r.executedAt, r.ended())
	s.say("==> Summary of the migration under the long transaction, from pgbench's log")
	s.say("    execution:                 %s", r.exec.Status)
	s.say("    lock retries:              %d", r.exec.Steps[0].Retries)
	s.say("    DDL done after blocker:    %s", r.exec.Steps[0].CompletedAt.Sub(r.released).Round(time.Millisecond))
	s.say("    app worst latency blocked: %s (normal %s)", ms(blocked.worst), ms(normal.worst))
	s.say("    app lowest tps blocked:    %d in a second, %.0f on average (normal %.0f)", blocked.lowest, blocked.tps, normal.tps)
	s.say("    failed app transactions:   %d of %d", pgbench.Failed(txns), len(txns))
	s.say("    (a plain runner would have queued ALTER TABLE behind the transaction, and every client behind it)")
	s.say("==> Done; stopping everything the demo started")
	return nil
}

// rollback rolls the execution back, with the application still running,
// and checks that the column is gone.
func (s *stack) rollback(ctx context.Context, migID, execID string) error {
	s.say("==> hotswap execution rollback --reason \"demo: undo\"")
	start := time.Now()
	rb, err := s.api.RollbackExecution(ctx, migID, execID, "demo: undo")
	if err != nil {
		return err
	}
	var cols int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns
		WHERE table_name = 'demo_accounts' AND column_name = 'note'`).Scan(&cols); err != nil {
		return err
	}
	s.say("    %s in %s; column note present: %v", rb.Status, time.Since(start).Round(time.Millisecond), cols == 1)
	if rb.Status != domain.ExecutionRolledBack || cols != 0 {
		return fmt.Errorf("rollback ended %s with the column present=%v", rb.Status, cols == 1)
	}
	return nil
}

// ms rounds d to a tenth of a millisecond for display.
func ms(d time.Duration) string { return d.Round(100 * time.Microsecond).String() }
