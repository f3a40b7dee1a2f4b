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
	"github.com/hotswap-db/hotswap/internal/pgbench"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// env is the database, the control plane and the agent the scenarios share.
type env struct {
	o     options
	pg    *testbed.Postgres
	dir   string
	srv   *testbed.Server
	agent *testbed.Agent
	api   *api.Client
}

func newEnv(ctx context.Context, o options, pg *testbed.Postgres, dir string) (*env, error) {
	e := &env{o: o, pg: pg, dir: dir}
	if err := pgbench.Init(ctx, e.pgbench(), 10); err != nil {
		return nil, err
	}
	srv, err := testbed.NewServer(filepath.Join(o.binDir, "hotswapd"), dir, testbed.ServerOptions{ID: "bench"})
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
	return e, e.startAgent(ctx)
}

func (e *env) startAgent(ctx context.Context) error {
	var tok api.AgentTokenResponse
	if err := testbed.Retry(ctx, 20*time.Second, func() (err error) { tok, err = e.api.CreateAgentToken(ctx, "bench-host"); return err }); err != nil {
		return err
	}
	dir := filepath.Join(e.dir, "agent")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	a, err := testbed.NewAgent(filepath.Join(e.o.binDir, "hotswap-agent"), dir, agentconfig.Config{Name: "bench-host", Token: tok.Token,
		Servers: []string{e.srv.RPCAddr}, Instances: []agentconfig.InstanceConfig{{ID: "main", Engine: domain.PostgreSQL, DSN: e.pg.DSN("app")}}})
	if err != nil {
		return err
	}
	e.agent = a
	if _, err := e.api.CreateDatabase(ctx, domain.DatabaseSpec{Name: "bench", Type: domain.PostgreSQL, Environment: domain.Production,
		Instances: []domain.InstanceRef{{Agent: "bench-host", InstanceID: "main", Role: domain.RoleMaster}}}); err != nil {
		return err
	}
	return testbed.Retry(ctx, 20*time.Second, func() error {
		ag, err := e.api.GetAgent(ctx, "bench-host")
		if err == nil && !ag.Connected {
			err = fmt.Errorf("agent not connected")
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

// pgbench is how pgbench reaches the database as the test bed's user.
func (e *env) pgbench() pgbench.Options {
	return pgbench.Options{BinDir: e.pg.BinDir(), Host: "127.0.0.1", Port: e.pg.Port(),
		User: testbed.PostgresUser, Password: e.pg.Password(), Database: testbed.PostgresDatabase}
}

// psql runs psql against the database as the test bed's user.
func (e *env) psql(ctx context.Context, args ...string) ([]byte, error) {
	base := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(e.pg.Port()), "-U", testbed.PostgresUser}
	cmd := exec.CommandContext(ctx, filepath.Join(e.pg.BinDir(), "psql"), append(append(base, args...), testbed.PostgresDatabase)...)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+e.pg.Password())
	return cmd.CombinedOutput()
}

// viaPsql runs ADD COLUMN the plain way: it waits in the lock queue for as
// long as it takes, and everyone behind it waits too.
func (e *env) viaPsql(ctx context.Context, column string) (time.Time, error) {
	out, err := e.psql(ctx, "-v", "ON_ERROR_STOP=1", "-c", "ALTER TABLE pgbench_accounts ADD COLUMN "+column+" int")
	if err != nil {
		return time.Time{}, fmt.Errorf("psql: %w: %s", err, out)
	}
	return time.Now(), nil
}

// viaHotSwap runs ADD COLUMN through HotSwap and returns when its step ended.
func (e *env) viaHotSwap(ctx context.Context, column string) (time.Time, error) {
	m, err := e.api.CreateMigration(ctx, domain.MigrationSpec{Name: "add_" + column, TargetDatabaseID: "bench",
		MigrationScript: "ALTER TABLE pgbench_accounts ADD COLUMN " + column + " int;",
		RollbackScript:  "ALTER TABLE pgbench_accounts DROP COLUMN IF EXISTS " + column + ";",
		Strategy:        domain.Direct, RiskLevel: domain.RiskLow})
	if err != nil {
		return time.Time{}, err
	}
	started, err := e.api.ExecuteMigration(ctx, m.MigrationID, api.ExecuteRequest{LockTimeoutMs: e.o.lockTimeout.Milliseconds()})
	if err != nil {
		return time.Time{}, err
	}
	for {
		ex, err := e.api.GetExecution(ctx, m.MigrationID, started.ExecutionID)
		if err != nil {
			return time.Time{}, err
		}
		if ex.Status.Terminal() {
			if ex.Status != domain.ExecutionSucceeded {
				return time.Time{}, fmt.Errorf("execution %s: %s", ex.Status, ex.ErrorMessage)
			}
			return ex.Steps[0].CompletedAt, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// blocker holds ACCESS SHARE on pgbench_accounts until release is called.
func (e *env) blocker(ctx context.Context) (release func() time.Time, err error) {
	conn, err := pgx.Connect(ctx, e.pg.DSN("app"))
	if err != nil {
		return nil, err
	}
	tx, err := conn.Begin(ctx)
	if err == nil {
		_, err = tx.Exec(ctx, "LOCK TABLE pgbench_accounts IN ACCESS SHARE MODE")
	}
	if err != nil {
		conn.Close(ctx)
		return nil, err
	}
	return func() time.Time {
		_ = tx.Commit(ctx)
		at := time.Now()
		conn.Close(ctx)
		return at
	}, nil
}
