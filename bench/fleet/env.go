package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// env is the fleet: n databases on one server, a control plane, one agent
// serving them all, each database registered with labels.
type env struct {
	o     options
	pg    *testbed.Postgres
	dir   string
	srv   *testbed.Server
	agent *testbed.Agent
	api   *api.Client
	names []string
	// sessionsBefore is the tenants' sessions before the measured
	// migration (--statements).
	sessionsBefore int64
}

func newEnv(ctx context.Context, o options, pg *testbed.Postgres, dir string) (*env, error) {
	e := &env{o: o, pg: pg, dir: dir}
	if err := e.createDatabases(ctx); err != nil {
		return nil, err
	}
	srv, err := testbed.NewServer(filepath.Join(o.binDir, "hotswapd"), dir, testbed.ServerOptions{ID: "fleet",
		Args: []string{"--max-concurrent-executions", strconv.Itoa(o.concurrent)}})
	if err != nil {
		return nil, err
	}
	if err := srv.Start(ctx); err != nil {
		return nil, err
	}
	e.srv = srv
	tok, err := srv.Token(ctx)
	if err != nil {
		return nil, err
	}
	e.api = api.New(srv.URL(), tok)
	return e, e.register(ctx)
}

func (e *env) createDatabases(ctx context.Context) error {
	admin, err := pgx.Connect(ctx, e.pg.DSN("app"))
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	for i := 0; i < e.o.databases; i++ {
		name := fmt.Sprintf("tenant%03d", i)
		e.names = append(e.names, name)
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
			return fmt.Errorf("create %s: %w", name, err)
		}
		if err := e.execOn(ctx, name, "CREATE TABLE invoices (id int PRIMARY KEY, total int)"); err != nil {
			return err
		}
	}
	return nil
}

func (e *env) execOn(ctx context.Context, db, sql string) error {
	conn, err := pgx.Connect(ctx, e.pg.DSN(db))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func (e *env) register(ctx context.Context) error {
	var tok api.AgentTokenResponse
	if err := testbed.Retry(ctx, 60*time.Second, func() (err error) { tok, err = e.api.CreateAgentToken(ctx, "tenant-host"); return err }); err != nil {
		return err
	}
	cfg := agentconfig.Config{Name: "tenant-host", Token: tok.Token, Servers: []string{e.srv.RPCAddr}, SampleInterval: 10 * time.Second}
	for _, n := range e.names {
		cfg.Instances = append(cfg.Instances, agentconfig.InstanceConfig{ID: n, Engine: domain.PostgreSQL, DSN: e.pg.DSN(n)})
		if _, err := e.api.CreateDatabase(ctx, domain.DatabaseSpec{Name: n, Type: domain.PostgreSQL, Environment: domain.Production,
			Labels:    map[string]string{"env": "prod", "service": "billing"},
			Instances: []domain.InstanceRef{{Agent: "tenant-host", InstanceID: n, Role: domain.RoleMaster}}}); err != nil {
			return err
		}
	}
	dir := filepath.Join(e.dir, "agent")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	a, err := testbed.NewAgent(filepath.Join(e.o.binDir, "hotswap-agent"), dir, cfg)
	if err != nil {
		return err
	}
	e.agent = a
	// Ready once every instance's preflight is in: the agent has created
	// the bookkeeping tables by then, and nothing of its start-up runs
	// beside the timed loops.
	return testbed.Retry(ctx, 60*time.Second, func() error {
		ag, err := e.api.GetAgent(ctx, "tenant-host")
		if err == nil && (!ag.Connected || len(ag.Instances) < len(e.names)) {
			err = fmt.Errorf("agent not ready")
		}
		for _, in := range ag.Instances {
			if err == nil && in.Preflight == nil {
				err = fmt.Errorf("instance %s: no preflight yet", in.InstanceID)
			}
		}
		return err
	})
}

func (e *env) close() {
	if e.agent != nil {
		e.agent.Kill()
	}
	if e.srv != nil {
		e.srv.Stop()
	}
}

// outcome is one approach's run.
type outcome struct {
	wall    time.Duration
	changed int
}

func (e *env) timed(ctx context.Context, column string, fn func(context.Context, string) error) (outcome, error) {
	if err := e.settle(ctx); err != nil {
		return outcome{}, err
	}
	e.waitSessionsSteady(ctx)
	start := time.Now()
	err := fn(ctx, column)
	o := outcome{wall: time.Since(start)}
	o.changed = e.countWithColumn(ctx, column)
	e.sayNewSessions(ctx, start)
	return o, err
}

// waitSessionsSteady waits, for at most 30 s, until the number of the
// agent's sessions has not changed for 3 s: once connected, the agent
// opens its samplers' sessions over its first minute, and a backend's
// start beside a timed phase slows it.
func (e *env) waitSessionsSteady(ctx context.Context) {
	start, last, since := time.Now(), -1, time.Now()
	for time.Since(start) < 30*time.Second && time.Since(since) < 3*time.Second {
		var n int
		_ = e.onAdmin(ctx, func(conn *pgx.Conn) error {
			return conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'hotswap-agent'`).Scan(&n)
		})
		if n != last {
			last, since = n, time.Now()
		}
		time.Sleep(250 * time.Millisecond)
	}
	fmt.Printf("  (the agent's sessions: %d, steady for %s)\n", last, time.Since(since).Round(100*time.Millisecond))
}

// sayNewSessions prints how many of the agent's sessions still open began
// after since: each costs the server a backend's start, paid in the phase.
func (e *env) sayNewSessions(ctx context.Context, since time.Time) {
	_ = e.onAdmin(ctx, func(conn *pgx.Conn) error {
		var n, all int
		err := conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE backend_start > $1), count(*) FROM pg_stat_activity
			WHERE application_name = 'hotswap-agent'`, since).Scan(&n, &all)
		if err == nil {
			fmt.Printf("  (%d of the agent's %d sessions were opened during the phase)\n", n, all)
		}
		return err
	})
}

// serialLoop is the shell script: psql on each database in turn.
func (e *env) serialLoop(ctx context.Context, column string) error {
	for _, n := range e.names {
		if err := e.psql(ctx, n, "ALTER TABLE invoices ADD COLUMN "+column+" int"); err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
	}
	return nil
}

func (e *env) psql(ctx context.Context, db, sql string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(e.pg.BinDir(), "psql"), "-h", "127.0.0.1", "-p", strconv.Itoa(e.pg.Port()),
		"-U", testbed.PostgresUser, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql, db)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+e.pg.Password())
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
}

// hotswap runs the same change as one Canary rollout over the fleet.
func (e *env) hotswap(ctx context.Context, column string) error {
	st, err := e.rollout(ctx, column)
	if err == nil && st != domain.ExecutionSucceeded {
		err = fmt.Errorf("rollout ended %s", st)
	}
	return err
}

func (e *env) rollout(ctx context.Context, column string) (domain.ExecutionStatus, error) {
	m, err := e.api.CreateMigration(ctx, domain.MigrationSpec{Name: "add_" + column, TargetDatabaseID: e.names[0],
		MigrationScript: "ALTER TABLE invoices ADD COLUMN " + column + " int;",
		RollbackScript:  "ALTER TABLE invoices DROP COLUMN IF EXISTS " + column + ";", Strategy: domain.Canary, RiskLevel: domain.RiskLow})
	if err != nil {
		return "", err
	}
	started, err := e.api.ExecuteMigration(ctx, m.MigrationID, api.ExecuteRequest{Strategy: domain.Canary,
		Selector: map[string]string{"env": "prod", "service": "billing"}, Monitoring: &domain.MonitorSettings{MonitorWindowSeconds: -1}})
	if err != nil {
		return "", err
	}
	for {
		ex, err := e.api.GetExecution(ctx, m.MigrationID, started.ExecutionID)
		if err != nil {
			return "", err
		}
		if ex.Status.Terminal() {
			e.timeline(ctx, m.MigrationID, ex)
			return ex.Status, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *env) countWithColumn(ctx context.Context, column string) int {
	n := 0
	for _, db := range e.names {
		conn, err := pgx.Connect(ctx, e.pg.DSN(db))
		if err != nil {
			continue
		}
		var c int
		_ = conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns WHERE table_name = 'invoices' AND column_name = $1`, column).Scan(&c)
		conn.Close(ctx)
		n += c
	}
	return n
}

// failureCase: every failEvery-th database already has the column, so the
// change fails there. The loop stops at the first failure and leaves the
// fleet half-migrated; HotSwap stops in its wave and rolls back.
func (e *env) failureCase(ctx context.Context) error {
	for i, n := range e.names {
		if i > 0 && i%e.o.failEvery == 0 {
			for _, col := range []string{"c_loop", "c_hs"} {
				if err := e.execOn(ctx, n, "ALTER TABLE invoices ADD COLUMN "+col+" int"); err != nil {
					return err
				}
			}
		}
	}
	preexisting := (len(e.names) - 1) / e.o.failEvery
	loopErr := e.serialLoop(ctx, "c_loop")
	loopChanged := e.countWithColumn(ctx, "c_loop") - preexisting
	st, err := e.rollout(ctx, "c_hs")
	if err != nil {
		return err
	}
	hsChanged := e.countWithColumn(ctx, "c_hs") - preexisting
	fmt.Printf("\nA migration that fails on every %dth database (%d of %d already have the column)\n\n", e.o.failEvery, preexisting, len(e.names))
	fmt.Printf("%-40s %14s %14s\n", "", "serial psql", "HotSwap Canary")
	fmt.Printf("%-40s %14s %14s\n", "outcome", short(loopErr), string(st))
	fmt.Printf("%-40s %14d %14d\n", "databases left changed", loopChanged, hsChanged)
	fmt.Printf("%-40s %14s %14s\n", "fleet state", state(loopChanged, len(e.names)), state(hsChanged, len(e.names)))
	return nil
}

func short(err error) string {
	if err == nil {
		return "succeeded"
	}
	return "stopped"
}

func state(changed, total int) string {
	switch {
	case changed == 0:
		return "unchanged"
	case changed >= total-1:
		return "migrated"
	}
	return "half-migrated"
}

// timeline prints where a rollout's time went: waiting for a start, the
// agents' step time, and the bookkeeping around it.
func (e *env) timeline(ctx context.Context, migID string, parent domain.Execution) {
	list, err := e.api.ListExecutions(ctx, migID)
	if err != nil {
		return
	}
	var queued, step, after time.Duration
	n := 0
	for _, c := range list.Executions {
		if c.ParentID != parent.ExecutionID || len(c.Steps) == 0 || c.StartedAt.IsZero() {
			continue
		}
		n++
		s := c.Steps[0]
		queued += c.StartedAt.Sub(c.CreatedAt)
		step += s.CompletedAt.Sub(s.StartedAt)
		after += c.CompletedAt.Sub(s.CompletedAt)
	}
	if n == 0 {
		return
	}
	fmt.Printf("  (rollout %s: %d databases; mean per database: %s queued, %s in the step, %s to finish)\n",
		parent.CompletedAt.Sub(parent.StartedAt).Round(time.Millisecond), n, (queued / time.Duration(n)).Round(time.Millisecond),
		(step / time.Duration(n)).Round(time.Millisecond), (after / time.Duration(n)).Round(time.Millisecond))
}

// settle gives each timed phase the same server: a checkpoint (creating
// a hundred databases, or their bookkeeping, leaves a lot of dirty
// buffers), then no autovacuum worker running (new catalogs in each
// database draw them), for at most 30 s. It prints what it waited for.
func (e *env) settle(ctx context.Context) error {
	return e.onAdmin(ctx, func(conn *pgx.Conn) error {
		start := time.Now()
		if _, err := conn.Exec(ctx, "CHECKPOINT"); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		var workers int
		for time.Since(start) < 30*time.Second {
			err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'`).Scan(&workers)
			if err != nil || workers == 0 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		fmt.Printf("  (settled in %s: checkpoint, %d autovacuum workers left)\n", time.Since(start).Round(time.Millisecond), workers)
		return nil
	})
}
