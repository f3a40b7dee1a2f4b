package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// env is one hotswapd and the simulated agents connected to it.
type env struct {
	o      options
	srv    *testbed.Server
	pid    int
	api    *api.Client
	stats  simStats
	agents []string
	// executions in flight: migration id -> execution id
	executions map[string]string
	stop       context.CancelFunc
	agentCtx   context.Context
}

func newEnv(ctx context.Context, o options, dir string) (*env, error) {
	srv, err := testbed.NewServer(filepath.Join(o.binDir, "hotswapd"), dir, testbed.ServerOptions{ID: "scale",
		Args: []string{"--max-concurrent-executions", strconv.Itoa(o.executions + 10), "--log-level", "warn"}})
	if err != nil {
		return nil, err
	}
	if err := srv.Start(ctx); err != nil {
		return nil, err
	}
	e := &env{o: o, srv: srv, executions: map[string]string{}}
	e.agentCtx, e.stop = context.WithCancel(context.Background())
	tok, err := srv.Token(ctx)
	if err != nil {
		e.close()
		return nil, err
	}
	e.api = api.New(srv.URL(), tok)
	if e.pid, err = findPID(srv.DataDir); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

func (e *env) close() {
	if e.stop != nil {
		e.stop()
	}
	e.srv.Stop()
}

// findPID finds the hotswapd whose command line names dataDir.
func findPID(dataDir string) (int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("read /proc: %w", err)
	}
	for _, en := range entries {
		pid, err := strconv.Atoi(en.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", en.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), "\x00"+dataDir+"\x00") {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no process runs hotswapd with --data-dir %s", dataDir)
}

func agentName(i int) string { return fmt.Sprintf("sim-%04d", i) }

// grow registers and connects agents until there are n, a few at a time
// so that their first reports do not all reach the log at once.
func (e *env) grow(ctx context.Context, n int) error {
	for i := len(e.agents); i < n; i++ {
		name := agentName(i)
		var tok api.AgentTokenResponse
		if err := testbed.Retry(ctx, 30*time.Second, func() (err error) { tok, err = e.api.CreateAgentToken(ctx, name); return err }); err != nil {
			return fmt.Errorf("create token of %s: %w", name, err)
		}
		a := &simAgent{name: name, token: tok.Token, addr: e.srv.RPCAddr, stepDelay: e.o.stepDelay, stats: &e.stats}
		go a.run(e.agentCtx)
		e.agents = append(e.agents, name)
	}
	return testbed.Retry(ctx, 5*time.Minute, func() error {
		if got := e.stats.connected.Load(); got < int64(n) {
			return fmt.Errorf("%d of %d simulated agents connected", got, n)
		}
		return nil
	})
}

// startExecutions registers one database on each of the first agents and
// executes a migration on each, with a monitor window longer than the
// benchmark: they stay in flight, watched over the agents' samples.
func (e *env) startExecutions(ctx context.Context) error {
	for i := 0; i < e.o.executions && i < len(e.agents); i++ {
		db := fmt.Sprintf("db%04d", i)
		if _, err := e.api.CreateDatabase(ctx, domain.DatabaseSpec{Name: db, Type: domain.PostgreSQL, Environment: domain.Production,
			Instances: []domain.InstanceRef{{Agent: e.agents[i], InstanceID: instanceID, Role: domain.RoleMaster}}}); err != nil {
			return fmt.Errorf("register %s: %w", db, err)
		}
		m, err := e.api.CreateMigration(ctx, domain.MigrationSpec{Name: "add_c_" + db, TargetDatabaseID: db,
			MigrationScript: "ALTER TABLE orders ADD COLUMN c int;", RollbackScript: "ALTER TABLE orders DROP COLUMN IF EXISTS c;",
			Strategy: domain.Direct, RiskLevel: domain.RiskLow})
		if err != nil {
			return fmt.Errorf("create migration on %s: %w", db, err)
		}
		ex, err := e.api.ExecuteMigration(ctx, m.MigrationID, api.ExecuteRequest{TimeoutSeconds: 86400,
			Monitoring: &domain.MonitorSettings{MonitorWindowSeconds: 86400, BaselineWindowSeconds: 5}})
		if err != nil {
			return fmt.Errorf("execute on %s: %w", db, err)
		}
		e.executions[m.MigrationID] = ex.ExecutionID
	}
	return nil
}

// inFlight counts the executions not ended and those in a monitor window.
func (e *env) inFlight(ctx context.Context) (running, watched int, err error) {
	for mig, ex := range e.executions {
		x, gerr := e.api.GetExecution(ctx, mig, ex)
		if gerr != nil {
			err = errors.Join(err, gerr)
			continue
		}
		if !x.Status.Terminal() {
			running++
		}
		if time.Now().Before(x.MonitorUntil) {
			watched++
		}
	}
	return running, watched, err
}
