package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/pgbench"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// instanceID is the agents' name for the database server.
const instanceID = "main"

// setting is one of the compared set-ups: no agent, or an agent sampling
// every interval, with its own name, token, folder and registered database.
type setting struct {
	name     string
	interval time.Duration // 0: no agent
	host     string        // agent name
	database string        // database registered on the agent's instance
	token    string
	dir      string
	agent    *testbed.Agent // nil until first started
}

// env is the database, the control plane and the agents' settings.
type env struct {
	o        options
	pg       *testbed.Postgres
	dir      string
	srv      *testbed.Server
	api      *api.Client
	admin    *pgx.Conn // the benchmark's own session, for the counters
	settings []*setting
}

// newEnv fills pgbench's tables, starts hotswapd and registers an agent
// and a database for each sampling interval (the agents start per run).
func newEnv(ctx context.Context, o options, pg *testbed.Postgres, dir string) (*env, error) {
	e := &env{o: o, pg: pg, dir: dir, settings: []*setting{{name: "no agent"},
		{name: "agent 1s", interval: time.Second, host: "host-1s", database: "bench-1s"},
		{name: "agent 250ms", interval: 250 * time.Millisecond, host: "host-250ms", database: "bench-250ms"}}}
	if err := pgbench.Init(ctx, e.pgbench(), o.scale); err != nil {
		return nil, fmt.Errorf("pgbench tables: %w", err)
	}
	admin, err := pgx.Connect(ctx, pg.DSN(testbed.PostgresDatabase))
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	e.admin = admin
	if err := e.startServer(ctx); err != nil {
		e.close()
		return nil, err
	}
	for _, s := range e.settings[1:] {
		if err := e.register(ctx, s); err != nil {
			e.close()
			return nil, err
		}
	}
	return e, nil
}

// startServer starts hotswapd and logs in to its API.
func (e *env) startServer(ctx context.Context) error {
	srv, err := testbed.NewServer(filepath.Join(e.o.binDir, "hotswapd"), e.dir, testbed.ServerOptions{ID: "bench"})
	if err != nil {
		return fmt.Errorf("prepare hotswapd: %w", err)
	}
	if err := srv.Start(ctx); err != nil {
		return fmt.Errorf("start hotswapd: %w", err)
	}
	e.srv = srv
	tok, err := srv.Token(ctx)
	if err != nil {
		return fmt.Errorf("hotswapd token: %w", err)
	}
	e.api = api.New(srv.URL(), tok)
	return nil
}

// register creates s's agent token and folder and registers its database.
func (e *env) register(ctx context.Context, s *setting) error {
	var tok api.AgentTokenResponse
	if err := testbed.Retry(ctx, 20*time.Second, func() (err error) { tok, err = e.api.CreateAgentToken(ctx, s.host); return err }); err != nil {
		return fmt.Errorf("agent token for %s: %w", s.host, err)
	}
	s.token, s.dir = tok.Token, filepath.Join(e.dir, s.host)
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("agent folder: %w", err)
	}
	_, err := e.api.CreateDatabase(ctx, domain.DatabaseSpec{Name: s.database, Type: domain.PostgreSQL, Environment: domain.Production,
		Instances: []domain.InstanceRef{{Agent: s.host, InstanceID: instanceID, Role: domain.RoleMaster}}})
	if err != nil {
		return fmt.Errorf("register database %s: %w", s.database, err)
	}
	return nil
}

// startAgent starts s's agent and returns once hotswapd holds a sample it
// took: connected, sampling and streaming.
func (e *env) startAgent(ctx context.Context, s *setting) error {
	started := time.Now()
	var err error
	if s.agent == nil {
		s.agent, err = testbed.NewAgent(filepath.Join(e.o.binDir, "hotswap-agent"), s.dir, agentconfig.Config{Name: s.host, Token: s.token,
			Servers: []string{e.srv.RPCAddr}, SampleInterval: s.interval,
			Instances: []agentconfig.InstanceConfig{{ID: instanceID, Engine: domain.PostgreSQL, DSN: e.pg.DSN(testbed.PostgresDatabase)}}})
	} else {
		err = s.agent.Start()
	}
	if err != nil {
		return fmt.Errorf("start %s: %w", s.name, err)
	}
	if err := testbed.Retry(ctx, 20*time.Second, func() error { return e.sampledSince(ctx, s, started) }); err != nil {
		return fmt.Errorf("%s: %w\n%s", s.name, err, s.agent.Log())
	}
	return nil
}

// sampledSince fails unless hotswapd's newest sample of s's instance was
// taken after t.
func (e *env) sampledSince(ctx context.Context, s *setting, t time.Time) error {
	h, err := e.api.DatabaseHealth(ctx, s.database)
	if err != nil {
		return fmt.Errorf("database health: %w", err)
	}
	if len(h.Instances) == 0 || h.Instances[0].Counters == nil || !h.Instances[0].Counters.At.After(t) {
		return errors.New("no sample from the agent yet")
	}
	return nil
}

// close stops the agents and hotswapd and ends the benchmark's session.
func (e *env) close() {
	for _, s := range e.settings {
		if s.agent != nil {
			s.agent.Kill()
		}
	}
	if e.srv != nil {
		e.srv.Stop()
	}
	if e.admin != nil {
		_ = e.admin.Close(context.Background())
	}
}

// pgbench is how pgbench reaches the database as the test bed's user.
func (e *env) pgbench() pgbench.Options {
	return pgbench.Options{BinDir: e.pg.BinDir(), Host: "127.0.0.1", Port: e.pg.Port(),
		User: testbed.PostgresUser, Password: e.pg.Password(), Database: testbed.PostgresDatabase}
}
