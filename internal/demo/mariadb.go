package demo

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"time"

	_ "github.com/go-sql-driver/mysql" // the application's driver

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// RunMariaDB runs the demo on MariaDB: the same control plane and agent, a
// MariaDB server, and a scripted workload (cfg.Clients sessions updating
// demo_accounts) as the application; the migration waits for the long
// transaction outside the metadata-lock queue while the workload's latency
// is printed beside it. It stops everything it started.
func RunMariaDB(ctx context.Context, cfg Config, out io.Writer) error {
	return runScene(ctx, cfg, out, "Starting MariaDB", (*stack).startMariaDB, (*stack).mariaShowcase)
}

func (s *stack) startMariaDB(ctx context.Context, cfg Config) error {
	m, err := testbed.NewMariaDB(ctx, filepath.Join(cfg.WorkDir, "mariadb"), testbed.MariaDBOptions{})
	if err != nil {
		return err
	}
	s.maria = m
	s.closer = append(s.closer, func() { _ = m.Stop() })
	db, err := sql.Open("mysql", m.DSN(testbed.MariaDBDatabase))
	if err != nil {
		return err
	}
	s.db = db
	s.closer = append(s.closer, func() { db.Close() })
	for _, stmt := range []string{"CREATE TABLE demo_accounts (id int PRIMARY KEY, balance bigint NOT NULL DEFAULT 0)",
		"INSERT INTO demo_accounts SELECT seq, 0 FROM seq_1_to_10000"} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	s.instance = agentconfig.InstanceConfig{ID: "main", Engine: domain.MySQL, DSN: m.DSN(testbed.MariaDBDatabase)}
	s.dbType = domain.MySQL
	s.say("    MariaDB on 127.0.0.1:%d, table demo_accounts with 10000 rows", m.Port())
	return nil
}

// mariaLoad is the scripted application: each client updates a row in a
// loop; every statement's end and duration is kept.
type mariaLoad struct {
	mu     sync.Mutex
	done   []time.Time
	took   []time.Duration
	failed int
	stop   func()
}

func (s *stack) startMariaLoad(clients int) *mariaLoad {
	ctx, cancel := context.WithCancel(context.Background())
	l := &mariaLoad{}
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := c; ctx.Err() == nil; i += clients {
				start := time.Now()
				_, err := s.db.ExecContext(ctx, fmt.Sprintf("UPDATE demo_accounts SET balance = balance + 1 WHERE id = %d", i%10000+1))
				l.record(start, err, ctx.Err() != nil)
			}
		})
	}
	l.stop = func() { cancel(); wg.Wait() }
	return l
}

func (l *mariaLoad) record(start time.Time, err error, stopping bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		if !stopping {
			l.failed++
		}
		return
	}
	l.done = append(l.done, time.Now())
	l.took = append(l.took, time.Since(start))
}

// window returns the statements ended in [from, to): count and worst.
func (l *mariaLoad) window(from, to time.Time) (n int, worst time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, at := range l.done {
		if !at.Before(from) && at.Before(to) {
			n++
			worst = max(worst, l.took[i])
		}
	}
	return n, worst
}

// mariaShowcase runs the migration under the scripted workload while a
// long transaction holds the table, then sums up.
func (s *stack) mariaShowcase(ctx context.Context, cfg Config) error {
	load := s.startMariaLoad(cfg.Clients)
	defer load.stop()
	s.say("==> Application workload: %d sessions updating demo_accounts", cfg.Clients)
	started := time.Now()
	time.Sleep(warmUp)
	n, worst := load.window(started, time.Now())
	s.say("    normal: %.0f statements/s, worst latency %s", float64(n)/warmUp.Seconds(), ms(worst))
	mig, err := s.api.CreateMigration(ctx, domain.MigrationSpec{Name: "add_note_to_accounts", TargetDatabaseID: "app",
		MigrationScript: "ALTER TABLE demo_accounts ADD COLUMN note varchar(40)", RollbackScript: "ALTER TABLE demo_accounts DROP COLUMN note",
		Strategy: domain.Direct, RiskLevel: domain.RiskLow})
	if err != nil {
		return fmt.Errorf("create migration: %w", err)
	}
	s.say("==> A long transaction holds a metadata lock on the table for %s (a report, a forgotten BEGIN)", cfg.BlockFor)
	released, err := s.mariaBlock(ctx, cfg.BlockFor)
	if err != nil {
		return fmt.Errorf("long transaction: %w", err)
	}
	s.say("==> hotswap migration execute add_note_to_accounts (lock_wait_timeout %s)", cfg.LockTimeout)
	executedAt := time.Now()
	run, err := s.api.ExecuteMigration(ctx, mig.MigrationID, api.ExecuteRequest{Strategy: domain.Direct,
		LockTimeoutMs: cfg.LockTimeout.Milliseconds(),
		Monitoring: &domain.MonitorSettings{MonitorWindowSeconds: 3, BaselineWindowSeconds: 3,
			// The workload's statements take a tenth of a millisecond: a
			// rise of a few hundredths is noise, not harm.
			Thresholds: domain.Thresholds{MinLatencyDeltaMs: 2}}})
	if err != nil {
		return fmt.Errorf("execute migration: %w", err)
	}
	e, err := s.mariaFollow(ctx, load, mig.MigrationID, run.ExecutionID)
	if err != nil {
		return fmt.Errorf("follow execution %s: %w", run.ExecutionID, err)
	}
	r := blockedRun{exec: e, executedAt: executedAt, released: <-released}
	if e.Status != domain.ExecutionSucceeded || len(e.Steps) == 0 {
		return fmt.Errorf("execution ended %s", e.Status)
	}
	return s.mariaSummarize(load, r)
}

// mariaBlock holds a shared metadata lock on the table for d in the
// background and reports when it let go.
func (s *stack) mariaBlock(ctx context.Context, d time.Duration) (<-chan time.Time, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	for _, stmt := range []string{"BEGIN", "SELECT count(*) FROM demo_accounts"} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			conn.Close()
			return nil, err
		}
	}
	done := make(chan time.Time, 1)
	go func() {
		time.Sleep(d)
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "COMMIT")
		done <- time.Now()
		conn.Close()
	}()
	return done, nil
}

// mariaFollow prints the execution's log beside the workload's last second
// until the execution ends.
func (s *stack) mariaFollow(ctx context.Context, load *mariaLoad, migID, execID string) (domain.Execution, error) {
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
		n, worst := load.window(time.Now().Add(-time.Second), time.Now())
		s.say("    %5.1fs  app: %5d statements/s, worst %s | execution %s, %d%%", time.Since(start).Seconds(), n, ms(worst), e.Status, e.Progress)
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

func (s *stack) mariaSummarize(load *mariaLoad, r blockedRun) error {
	time.Sleep(cooldown)
	load.stop()
	_, normal := load.window(time.Time{}, r.executedAt)
	n, blocked := load.window(r.executedAt, r.ended())
	s.say("==> Summary of the migration under the long transaction")
	s.say("    execution:                 %s", r.exec.Status)
	s.say("    DDL done after blocker:    %s", r.exec.Steps[0].CompletedAt.Sub(r.released).Round(time.Millisecond))
	s.say("    app worst latency blocked: %s over %d statements (normal %s)", ms(blocked), n, ms(normal))
	s.say("    failed app statements:     %d", load.failed)
	s.say("    (a plain ALTER TABLE would have waited in the metadata-lock queue, and every session behind it)")
	s.say("==> Done; stopping everything the demo started")
	return nil
}
