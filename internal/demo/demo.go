// Package demo shows what HotSwap is for, on one machine: a control plane,
// an agent and a PostgreSQL with pgbench as the application; a migration
// runs while a long transaction holds the table, and the application's
// latency stays flat; then a rollback, and a summary from pgbench's
// per-transaction log. RunMariaDB shows the metadata-lock guard the same
// way on MariaDB, with a scripted workload as the application.
package demo

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// Config says where the programs are and how long to block the table.
type Config struct {
	BinDir      string        // holds hotswapd and hotswap-agent
	WorkDir     string        // data folders; removed at the end
	BlockFor    time.Duration // how long the long transaction holds the table
	LockTimeout time.Duration
	Clients     int // pgbench clients, one thread each
}

// stack is everything the demo started.
type stack struct {
	out   io.Writer
	pg    *testbed.Postgres
	srv   *testbed.Server
	agent *testbed.Agent
	api   *api.Client
	pool  *pgxpool.Pool
	maria *testbed.MariaDB // the MariaDB run's server (RunMariaDB)
	db    *sql.DB          // the MariaDB run's application pool
	// instance is the database the agent serves and dbType its engine,
	// set by the step that starts the database server.
	instance agentconfig.InstanceConfig
	dbType   domain.DatabaseType
	closer   []func()
}

func (s *stack) say(format string, a ...any) { fmt.Fprintf(s.out, format+"\n", a...) }

func (s *stack) stop() {
	for i := len(s.closer) - 1; i >= 0; i-- {
		s.closer[i]()
	}
}

// Run runs the demo from start to finish and stops everything it started.
func Run(ctx context.Context, cfg Config, out io.Writer) error {
	return runScene(ctx, cfg, out, "Starting PostgreSQL", (*stack).startPostgres, (*stack).showcase)
}

// runScene starts the database with startDB, then the control plane and the
// agent, registers the database and a migration, and plays the scene with
// showcase. It stops everything it started.
func runScene(ctx context.Context, cfg Config, out io.Writer, dbTitle string,
	startDB, showcase func(*stack, context.Context, Config) error) error {
	if err := os.MkdirAll(cfg.WorkDir, 0o755); err != nil {
		return err
	}
	s := &stack{out: out}
	defer s.stop()
	steps := []struct {
		title string
		run   func(context.Context, Config) error
	}{
		{dbTitle, func(ctx context.Context, cfg Config) error { return startDB(s, ctx, cfg) }},
		{"Starting hotswapd (single-node control plane)", s.startServer},
		{"Starting hotswap-agent on the database host", s.startAgent},
		{"Registering the database and a migration", s.register},
	}
	for _, st := range steps {
		s.say("==> %s", st.title)
		if err := st.run(ctx, cfg); err != nil {
			return fmt.Errorf("%s: %w", strings.ToLower(st.title), err)
		}
	}
	return showcase(s, ctx, cfg)
}

func (s *stack) startPostgres(ctx context.Context, cfg Config) error {
	pg, err := testbed.NewPostgres(ctx, filepath.Join(cfg.WorkDir, "postgres"), testbed.PostgresOptions{})
	if err != nil {
		return err
	}
	s.pg = pg
	s.closer = append(s.closer, func() { _ = pg.Stop() })
	pool, err := pgxpool.New(ctx, pg.DSN("app"))
	if err != nil {
		return err
	}
	s.pool = pool
	s.closer = append(s.closer, pool.Close)
	_, err = pool.Exec(ctx, `CREATE TABLE demo_accounts (id int PRIMARY KEY, balance bigint NOT NULL DEFAULT 0);
		INSERT INTO demo_accounts SELECT g, 0 FROM generate_series(1, 10000) g`)
	s.instance = agentconfig.InstanceConfig{ID: "main", Engine: domain.PostgreSQL, DSN: pg.DSN("app")}
	s.dbType = domain.PostgreSQL
	s.say("    PostgreSQL on 127.0.0.1:%d, table demo_accounts with 10000 rows", pg.Port())
	return err
}

func (s *stack) startServer(ctx context.Context, cfg Config) error {
	srv, err := testbed.NewServer(filepath.Join(cfg.BinDir, "hotswapd"), cfg.WorkDir, testbed.ServerOptions{ID: "demo"})
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	s.srv = srv
	s.closer = append(s.closer, srv.Stop)
	tok, err := srv.Token(ctx)
	if err != nil {
		return err
	}
	s.api = api.New(srv.URL(), tok)
	s.say("    API on %s, admin token in %s/bootstrap-token", srv.URL(), srv.DataDir)
	return nil
}

func (s *stack) startAgent(ctx context.Context, cfg Config) error {
	var tok api.AgentTokenResponse
	err := testbed.Retry(ctx, 20*time.Second, func() (err error) { tok, err = s.api.CreateAgentToken(ctx, "db-host-1"); return err })
	if err != nil {
		return err
	}
	dir := filepath.Join(cfg.WorkDir, "agent")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	a, err := testbed.NewAgent(filepath.Join(cfg.BinDir, "hotswap-agent"), dir, agentconfig.Config{
		Name: "db-host-1", Token: tok.Token, Servers: []string{s.srv.RPCAddr},
		Instances: []agentconfig.InstanceConfig{s.instance}})
	if err != nil {
		return err
	}
	s.agent = a
	s.closer = append(s.closer, a.Kill)
	return testbed.Retry(ctx, 20*time.Second, func() error {
		ag, err := s.api.GetAgent(ctx, "db-host-1")
		if err == nil && !ag.Connected {
			err = fmt.Errorf("agent not connected yet")
		}
		if err == nil {
			s.say("    agent db-host-1 connected: instance main is %s, %s %s", ag.Instances[0].Role, s.dbType, ag.Instances[0].ServerVersion)
		}
		return err
	})
}

func (s *stack) register(ctx context.Context, _ Config) error {
	_, err := s.api.CreateDatabase(ctx, domain.DatabaseSpec{Name: "app", Type: s.dbType, Environment: domain.Production,
		Instances: []domain.InstanceRef{{Agent: "db-host-1", InstanceID: "main", Role: domain.RoleMaster}}})
	if err != nil {
		return err
	}
	s.say("    database app: db-host-1/main (Master)")
	return nil
}
