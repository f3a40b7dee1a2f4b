package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/domain"
)

const (
	upScript   = "ALTER TABLE demo_accounts ADD COLUMN note text;\nCREATE INDEX CONCURRENTLY demo_accounts_note ON demo_accounts (note);"
	downScript = "DROP INDEX CONCURRENTLY IF EXISTS demo_accounts_note;\nALTER TABLE demo_accounts DROP COLUMN IF EXISTS note;"
)

// showcase runs the migration under load while a long transaction holds
// the table, then rolls it back, printing what happens as it happens.
func (s *stack) showcase(ctx context.Context, cfg Config) error {
	wctx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	load := newWorkload(s.pool, cfg.Clients)
	go load.run(wctx)
	s.say("==> Application workload: %d clients updating demo_accounts", cfg.Clients)
	time.Sleep(3 * time.Second)
	base := load.last()
	s.say("    normal: %d tps, worst latency %s", base.TPS, ms(base.Worst))

	mig, err := s.api.CreateMigration(ctx, domain.MigrationSpec{Name: "add_note_to_accounts", TargetDatabaseID: "app",
		MigrationScript: upScript, RollbackScript: downScript, Strategy: domain.Direct, RiskLevel: domain.RiskLow})
	if err != nil {
		return err
	}
	s.say("==> A long transaction takes the table for %s (a report, a forgotten BEGIN)", cfg.BlockFor)
	released, err := s.block(ctx, cfg.BlockFor)
	if err != nil {
		return err
	}
	s.say("==> hotswap migration execute add_note_to_accounts (lock timeout %s)", cfg.LockTimeout)
	var started struct{ ExecutionID string }
	err = s.api.Do(ctx, "POST", "/api/v1/migrations/"+mig.MigrationID+"/execute",
		map[string]any{"strategy": "Direct", "lockTimeoutMs": cfg.LockTimeout.Milliseconds()}, &started)
	if err != nil {
		return err
	}
	e, err := s.follow(ctx, load, mig.MigrationID, started.ExecutionID)
	if err != nil {
		return err
	}
	s.summarize(load, e, base, <-released)
	return s.rollback(ctx, mig.MigrationID, e.ExecutionID)
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

// follow prints the execution's progress beside the application's figures
// until it ends.
func (s *stack) follow(ctx context.Context, load *workload, migID, execID string) (domain.Execution, error) {
	start := time.Now()
	printed := 0
	for {
		var e domain.Execution
		if err := s.api.Do(ctx, "GET", "/api/v1/migrations/"+migID+"/executions/"+execID, nil, &e); err != nil {
			return e, err
		}
		for ; printed < len(e.Logs); printed++ {
			l := e.Logs[printed]
			s.say("    %5.1fs  [%s] %s", l.Time.Sub(start).Seconds(), l.Level, l.Message)
		}
		app := load.last()
		s.say("    %5.1fs  app: %4d tps, worst %7s | execution %s, %d%%", time.Since(start).Seconds(), app.TPS, ms(app.Worst), e.Status, e.Progress)
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

func (s *stack) summarize(load *workload, e domain.Execution, base sample, released time.Time) {
	window, failed := load.between(e.StartedAt.Add(time.Second), released.Add(-time.Second))
	worst, minTPS := time.Duration(0), base.TPS
	for _, w := range window {
		worst, minTPS = max(worst, w.Worst), min(minTPS, w.TPS)
	}
	s.say("==> Summary")
	s.say("    execution:                 %s", e.Status)
	s.say("    lock retries:              %d", e.Steps[0].Retries)
	s.say("    finished after blocker:    %s", e.CompletedAt.Sub(released).Round(time.Millisecond))
	s.say("    app worst latency blocked: %s (normal %s)", ms(worst), ms(base.Worst))
	s.say("    app lowest tps blocked:    %d (normal %d)", minTPS, base.TPS)
	s.say("    failed app transactions:   %d", failed)
	s.say("    (a plain runner would have queued ALTER TABLE behind the transaction, and every client behind it)")
}

func (s *stack) rollback(ctx context.Context, migID, execID string) error {
	s.say("==> hotswap execution rollback --reason \"demo: undo\"")
	start := time.Now()
	var rb struct {
		Status string `json:"status"`
	}
	err := s.api.Do(ctx, "POST", "/api/v1/migrations/"+migID+"/executions/"+execID+"/rollback",
		map[string]string{"reason": "demo: undo"}, &rb)
	if err != nil {
		return err
	}
	var cols int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns
		WHERE table_name = 'demo_accounts' AND column_name = 'note'`).Scan(&cols); err != nil {
		return err
	}
	s.say("    %s in %s; column note present: %v", rb.Status, time.Since(start).Round(time.Millisecond), cols == 1)
	if rb.Status != string(domain.ExecutionRolledBack) || cols != 0 {
		return fmt.Errorf("rollback ended %s with the column present=%v", rb.Status, cols == 1)
	}
	s.say("==> Done; stopping everything the demo started")
	return nil
}

func ms(d time.Duration) string { return d.Round(100 * time.Microsecond).String() }
