package main

import (
	"context"
	"database/sql"
	"fmt"

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
	stack *testbed.Stack
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
	st, err := testbed.StartStack(ctx, testbed.StackOptions{BinDir: o.binDir, Dir: dir, ServerID: "mdllock", Agent: "bench-host",
		Instance: agentconfig.InstanceConfig{ID: "main", Engine: domain.MySQL, DSN: maria.DSN(testbed.MariaDBDatabase)},
		Database: "bench"})
	if err != nil {
		return nil, err
	}
	e.stack, e.api = st, st.API
	return e, nil
}

// close stops the agent and the control plane, and closes the pool.
func (e *env) close() {
	if e.stack != nil {
		e.stack.Close()
	}
	if e.db != nil {
		_ = e.db.Close()
	}
}
