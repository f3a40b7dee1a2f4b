package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/pgbench"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// env is the database, the control plane and the agent the scenarios share.
type env struct {
	runs  int
	o     options
	pg    *testbed.Postgres
	dir   string
	stack *testbed.Stack
	api   *api.Client
}

func newEnv(ctx context.Context, o options, pg *testbed.Postgres, dir string) (*env, error) {
	e := &env{o: o, pg: pg, dir: dir}
	if err := pgbench.Init(ctx, e.pgbench(), 10); err != nil {
		return nil, err
	}
	st, err := testbed.StartStack(ctx, testbed.StackOptions{BinDir: o.binDir, Dir: dir, ServerID: "bench", Agent: "bench-host",
		Instance: agentconfig.InstanceConfig{ID: "main", Engine: domain.PostgreSQL, DSN: pg.DSN("app")}, Database: "bench"})
	if err != nil {
		return nil, err
	}
	e.stack, e.api = st, st.API
	return e, nil
}

func (e *env) close() {
	if e.stack != nil {
		e.stack.Close()
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

// outcome is how one migration went.
type outcome struct {
	// begun, when set, is when the migration began, if later than when
	// its method was called (HotSwap: the execute request, after the
	// migration was created, parsed and linted).
	begun        time.Time
	done         time.Time
	lockTimeouts int
	rollback     bool
	note         string
	// log is HotSwap's execution log, times from the migration's start.
	log []string
}

// method is one way of running the migration.
type method struct {
	key, name string
	run       func(ctx context.Context, column string) (outcome, error)
}

// methods are the ways compared, in the table's order (those --methods
// names, when given).
func (e *env) methods() []method {
	all := []method{{"psql", "plain psql", e.viaPsql}, {"retry", "retry loop", e.viaRetryLoop}, {"hotswap", "HotSwap", e.viaHotSwap}}
	if e.o.methods == "" {
		return all
	}
	var out []method
	for _, m := range all {
		if strings.Contains(","+e.o.methods+",", ","+m.key+",") {
			out = append(out, m)
		}
	}
	return out
}

func addColumn(column string) string {
	return "ALTER TABLE pgbench_accounts ADD COLUMN " + column + " int"
}

// viaPsql runs ADD COLUMN the plain way: it waits in the lock queue for as
// long as it takes, and everyone behind it waits too.
func (e *env) viaPsql(ctx context.Context, column string) (outcome, error) {
	out, err := e.psql(ctx, "-v", "ON_ERROR_STOP=1", "-c", addColumn(column))
	if err != nil {
		return outcome{}, fmt.Errorf("psql: %w: %s", err, out)
	}
	return outcome{done: time.Now()}, nil
}

// viaRetryLoop runs ADD COLUMN as pgroll does: a 500 ms lock timeout, and
// after each lock timeout a backoff whose ceiling doubles from 1 s to 60 s,
// drawn with jitter between 1 s and the ceiling.
func (e *env) viaRetryLoop(ctx context.Context, column string) (outcome, error) {
	conn, err := pgx.Connect(ctx, e.pg.DSN("app"))
	if err != nil {
		return outcome{}, err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SET lock_timeout = '500ms'"); err != nil {
		return outcome{}, err
	}
	var o outcome
	for ceiling := time.Second; ; ceiling = min(2*ceiling, 60*time.Second) {
		_, err := conn.Exec(ctx, addColumn(column))
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "55P03" {
			o.done = time.Now()
			return o, err
		}
		o.lockTimeouts++
		time.Sleep(time.Second + rand.N(ceiling-time.Second+1))
	}
}

// viaHotSwap runs ADD COLUMN through HotSwap, default guards, and returns
// when its step ended; it waits for the execution to end to learn whether
// a rollback was decided. Its time counts from the execute request: the
// migration is created (parsed, linted, and approved where required)
// before a change is rolled out, as psql's script is written beforehand.
func (e *env) viaHotSwap(ctx context.Context, column string) (outcome, error) {
	m, err := e.api.CreateMigration(ctx, domain.MigrationSpec{Name: "add_" + column, TargetDatabaseID: "bench",
		MigrationScript: addColumn(column) + ";",
		RollbackScript:  "ALTER TABLE pgbench_accounts DROP COLUMN IF EXISTS " + column + ";",
		Strategy:        domain.Direct, RiskLevel: domain.RiskLow})
	if err != nil {
		return outcome{}, err
	}
	begin := time.Now()
	started, err := e.api.ExecuteMigration(ctx, m.MigrationID, api.ExecuteRequest{LockTimeoutMs: e.o.lockTimeout.Milliseconds(),
		Monitoring: &domain.MonitorSettings{MonitorWindowSeconds: 3}})
	if err != nil {
		return outcome{}, err
	}
	for {
		ex, err := e.api.GetExecution(ctx, m.MigrationID, started.ExecutionID)
		if err != nil {
			return outcome{}, err
		}
		if ex.Status.Terminal() {
			o := hotSwapOutcome(ex, begin)
			o.begun = begin
			return o, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hotSwapOutcome reads an ended execution.
func hotSwapOutcome(ex domain.Execution, begin time.Time) outcome {
	o := outcome{rollback: len(ex.Decisions) > 0 || ex.Status == domain.ExecutionRolledBack}
	for _, l := range ex.Logs {
		o.log = append(o.log, fmt.Sprintf("%8s %-5s %s", l.Time.Sub(begin).Round(time.Millisecond), l.Level, l.Message))
	}
	for _, s := range ex.Steps {
		if s.Direction == domain.Forward && !s.CompletedAt.IsZero() {
			o.done = s.CompletedAt
		}
	}
	for _, l := range ex.Logs {
		switch {
		case strings.Contains(l.Message, "lock timeout on attempt"):
			o.lockTimeouts++
		case strings.Contains(l.Message, "never free") || strings.Contains(l.Message, "not armed"):
			o.note += l.Message + " "
		}
	}
	if o.rollback {
		o.note += fmt.Sprintf("execution %s: %s", ex.Status, ex.RollbackReason)
	}
	return o
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
