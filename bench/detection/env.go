package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/pgbench"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// Names the benchmark registers.
const (
	agentName  = "bench-host"
	instanceID = "main"
	databaseID = "bench"
)

// env is the database, the control plane and the agent the runs share.
type env struct {
	o     options
	pg    *testbed.Postgres
	dir   string
	stack *testbed.Stack
	api   *api.Client
}

// newEnv fills the items table, starts hotswapd and an agent, and
// registers the database.
func newEnv(ctx context.Context, o options, pg *testbed.Postgres, dir string) (*env, error) {
	e := &env{o: o, pg: pg, dir: dir}
	if err := e.createItems(ctx); err != nil {
		return nil, err
	}
	st, err := testbed.StartStack(ctx, testbed.StackOptions{BinDir: o.binDir, Dir: dir, ServerID: "bench", Agent: agentName,
		Instance: agentconfig.InstanceConfig{ID: instanceID, Engine: domain.PostgreSQL, DSN: pg.DSN(testbed.PostgresDatabase)},
		// Development: the dropped index is a Medium-risk change, which needs
		// an approval on a Production database.
		Database: databaseID, Environment: domain.Development})
	if err != nil {
		return nil, err
	}
	e.stack, e.api = st, st.API
	return e, nil
}

// createItems creates items(id, k, pad) with o.rows rows and the index
// items_k the workload reads through.
func (e *env) createItems(ctx context.Context) error {
	return e.exec(ctx,
		"CREATE TABLE items (id int, k int, pad text)",
		"INSERT INTO items SELECT g, g, repeat('x', 50) FROM generate_series(1, "+strconv.Itoa(e.o.rows)+") g",
		"CREATE INDEX items_k ON items (k)",
		"VACUUM ANALYZE items")
}

// exec runs statements on the database, as its owner.
func (e *env) exec(ctx context.Context, stmts ...string) error {
	conn, err := pgx.Connect(ctx, e.pg.DSN(testbed.PostgresDatabase))
	if err != nil {
		return fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Close(context.Background())
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// close stops the agent and hotswapd.
func (e *env) close() {
	if e.stack != nil {
		e.stack.Close()
	}
}

// workload starts pgbench selecting items by k through the index, with
// o.clients clients, for longer than all the runs can take; the caller
// stops it.
func (e *env) workload(ctx context.Context, logPrefix string) (*pgbench.Run, error) {
	o := pgbench.Options{BinDir: e.pg.BinDir(), Host: "127.0.0.1", Port: e.pg.Port(),
		User: testbed.PostgresUser, Password: e.pg.Password(), Database: testbed.PostgresDatabase,
		Clients: e.o.clients, Threads: e.o.clients, LogPrefix: logPrefix,
		Duration: time.Duration(e.o.runs)*2*time.Minute + 2*time.Minute,
		Script:   fmt.Sprintf("\\set k random(1, %d)\nSELECT id FROM items WHERE k = :k;\n", e.o.rows)}
	run, err := pgbench.Start(ctx, o, nil)
	if err != nil {
		return nil, fmt.Errorf("start the workload: %w", err)
	}
	return run, nil
}

// waitSamples waits until the leader holds a sample of the instance with
// statements in it, then for a baseline window's worth more.
func (e *env) waitSamples(ctx context.Context) error {
	err := testbed.Retry(ctx, 20*time.Second, func() error {
		h, err := e.api.DatabaseHealth(ctx, databaseID)
		if err != nil {
			return err
		}
		if len(h.Instances) == 0 || h.Instances[0].Counters == nil || h.Instances[0].Counters.Calls == 0 {
			return errors.New("no sample with statements yet")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("wait for samples: %w", err)
	}
	return sleep(ctx, baselineWindow+time.Second)
}

// sleep waits for d or the end of ctx.
func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
