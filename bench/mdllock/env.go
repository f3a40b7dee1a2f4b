package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// rows is the size of the items table.
const rows = 100_000

// env is the database, the control plane and the agent the runs share.
type env struct {
	runs  int
	o     options
	maria *testbed.MariaDB
	db    *sql.DB
	dir   string
	srv   *testbed.Server
	agent *testbed.Agent
	api   *api.Client
}

// newEnv fills the items table and starts hotswapd and an agent serving
// the server as database "bench".
func newEnv(ctx context.Context, o options, maria *testbed.MariaDB, dir string) (*env, error) {
	e := &env{o: o, maria: maria, dir: dir}
	db, err := sql.Open("mysql", maria.DSN(testbed.MariaDBDatabase))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(o.clients + 4)
	e.db = db
	for _, s := range []string{"CREATE TABLE items (id int PRIMARY KEY, k int NOT NULL, pad varchar(60))",
		fmt.Sprintf("INSERT INTO items SELECT seq, seq, REPEAT('x', 50) FROM seq_1_to_%d", rows)} {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return nil, fmt.Errorf("%s: %w", s, err)
		}
	}
	srv, err := testbed.NewServer(filepath.Join(o.binDir, "hotswapd"), dir, testbed.ServerOptions{ID: "mdllock"})
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

// startAgent starts the agent and registers the database.
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
		Servers: []string{e.srv.RPCAddr}, Instances: []agentconfig.InstanceConfig{{ID: "main", Engine: domain.MySQL,
			DSN: e.maria.DSN(testbed.MariaDBDatabase)}}})
	if err != nil {
		return err
	}
	e.agent = a
	if _, err := e.api.CreateDatabase(ctx, domain.DatabaseSpec{Name: "bench", Type: domain.MySQL, Environment: domain.Production,
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

// close stops the agent and the control plane, and closes the pool.
func (e *env) close() {
	if e.agent != nil {
		e.agent.Kill()
	}
	if e.srv != nil {
		e.srv.Stop()
	}
	if e.db != nil {
		_ = e.db.Close()
	}
}
