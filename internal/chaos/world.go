package chaos

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// Kind says which world a scenario runs in.
type Kind string

// The worlds.
const (
	// Single is one hotswapd and one agent that reaches it through a
	// Proxy, over one PostgreSQL database.
	Single Kind = "single"
	// Cluster is three hotswapd servers, each behind a Raft proxy, and one
	// agent that knows all three, over three independent PostgreSQL
	// databases rolled out one after the other (Phased).
	Cluster Kind = "cluster"
)

// agentName is the world's one agent; dbName the database it registers.
const (
	agentName = "chaos-host"
	dbName    = "chaos"
)

// World is the servers one scenario runs against: PostgreSQL, hotswapd
// servers, an agent. Scenarios run in it one after the other, each on
// tables of its own.
type World struct {
	Kind    Kind
	PG      *testbed.Postgres
	Servers []*testbed.Server
	Agent   *testbed.Agent
	// AgentLink stands between the agent and the server (Single only).
	AgentLink *testbed.Proxy
	// Instances are the databases of the registered database, one per
	// instance, named as the agent's instances are.
	Instances []string
	token     string
	dir       string
	runs      int // runs so far, for names of their own
}

// NewWorld starts a world of kind with the programs bins, in a new folder
// under os.TempDir(). Close stops it.
func NewWorld(ctx context.Context, bins testbed.Binaries, kind Kind) (w *World, err error) {
	dir, err := os.MkdirTemp("", "hotswap-chaos-")
	if err != nil {
		return nil, fmt.Errorf("chaos: temp folder: %w", err)
	}
	w = &World{Kind: kind, dir: dir}
	defer func() {
		if err != nil {
			w.Close()
			w = nil
		}
	}()
	if w.PG, err = testbed.NewPostgres(ctx, "", testbed.PostgresOptions{}); err != nil {
		return w, fmt.Errorf("chaos: start PostgreSQL: %w", err)
	}
	if err = w.startServers(ctx, bins.Server); err != nil {
		return w, err
	}
	if err = w.createInstances(ctx); err != nil {
		return w, err
	}
	return w, w.startAgent(ctx, bins.Agent)
}

// Close stops every process of the world and removes its folder.
func (w *World) Close() {
	if w.Agent != nil {
		_ = w.Agent.Signal(syscall.SIGCONT)
		w.Agent.Kill()
	}
	if w.AgentLink != nil {
		w.AgentLink.Close()
	}
	for _, s := range w.Servers {
		s.Close()
	}
	if w.PG != nil {
		_ = w.PG.Stop()
		_ = os.RemoveAll(w.PG.Dir())
	}
	_ = os.RemoveAll(w.dir)
}

func (w *World) startServers(ctx context.Context, bin string) error {
	if w.Kind == Single {
		s, err := testbed.NewServer(bin, w.dir, testbed.ServerOptions{})
		if err != nil {
			return fmt.Errorf("chaos: prepare hotswapd: %w", err)
		}
		w.Servers = []*testbed.Server{s}
		if err := s.Start(ctx); err != nil {
			return fmt.Errorf("chaos: %w", err)
		}
	} else {
		var err error
		w.Servers, err = testbed.NewCluster(ctx, bin, w.dir, 3, testbed.ClusterOptions{RaftProxies: true})
		if err != nil {
			return fmt.Errorf("chaos: %w", err)
		}
	}
	tok, err := w.bootstrapToken(ctx)
	if err != nil {
		return err
	}
	w.token = tok
	_, err = w.Leader(ctx, nil)
	return err
}

// bootstrapToken reads the admin token the first leader wrote to its data folder.
func (w *World) bootstrapToken(ctx context.Context) (string, error) {
	var tok string
	err := testbed.Retry(ctx, 60*time.Second, func() error {
		for _, s := range w.Servers {
			if b, err := os.ReadFile(filepath.Join(s.DataDir, "bootstrap-token")); err == nil && len(b) > 0 {
				tok = strings.TrimSpace(string(b))
				return nil
			}
		}
		return errors.New("no bootstrap token yet")
	})
	if err != nil {
		return "", fmt.Errorf("chaos: bootstrap token: %w", err)
	}
	return tok, nil
}

// createInstances creates one database per instance of the world.
func (w *World) createInstances(ctx context.Context) error {
	n := 1
	if w.Kind == Cluster {
		n = 3
	}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("inst%d", i)
		if err := w.Exec(ctx, testbed.PostgresDatabase, "CREATE DATABASE "+name); err != nil {
			return err
		}
		// The key function makes an index build as slow as a test needs.
		if err := w.Exec(ctx, name, `CREATE FUNCTION slow_key(v int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS
			$$ BEGIN PERFORM pg_sleep(0.01); RETURN v; END $$`); err != nil {
			return err
		}
		w.Instances = append(w.Instances, name)
	}
	return nil
}

// startAgent registers the agent and the database and starts the agent:
// through AgentLink in a Single world, to every server in a Cluster.
func (w *World) startAgent(ctx context.Context, bin string) error {
	leader, err := w.Leader(ctx, nil)
	if err != nil {
		return err
	}
	cl := w.Client(leader)
	var tok api.AgentTokenResponse
	if err := testbed.Retry(ctx, 30*time.Second, func() (err error) { tok, err = cl.CreateAgentToken(ctx, agentName); return err }); err != nil {
		return fmt.Errorf("chaos: agent token: %w", err)
	}
	cfg := agentconfig.Config{Name: agentName, Token: tok.Token}
	if w.Kind == Single {
		if w.AgentLink, err = testbed.NewProxy(w.Servers[0].RPCAddr); err != nil {
			return fmt.Errorf("chaos: %w", err)
		}
		cfg.Servers = []string{w.AgentLink.Addr()}
	} else {
		for _, s := range w.Servers {
			cfg.Servers = append(cfg.Servers, s.RPCAddr)
		}
	}
	spec := domain.DatabaseSpec{Name: dbName, Type: domain.PostgreSQL, Environment: domain.Development}
	for i, name := range w.Instances {
		role := domain.RoleAsyncReplica
		if i == 0 {
			role = domain.RoleMaster
		}
		cfg.Instances = append(cfg.Instances, agentconfig.InstanceConfig{ID: name, Engine: domain.PostgreSQL, DSN: w.PG.DSN(name)})
		spec.Instances = append(spec.Instances, domain.InstanceRef{Agent: agentName, InstanceID: name, Role: role})
	}
	if _, err := cl.CreateDatabase(ctx, spec); err != nil {
		return fmt.Errorf("chaos: register database: %w", err)
	}
	adir := filepath.Join(w.dir, "agent")
	if err := os.MkdirAll(adir, 0o700); err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	if w.Agent, err = testbed.NewAgent(bin, adir, cfg); err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	return w.WaitAgent(ctx, time.Time{})
}

// Client is an API client of s with short timeouts: a dead or cut-off
// server must not hold a poll up.
func (w *World) Client(s *testbed.Server) *api.Client {
	hc := *s.HTTPClient()
	hc.Timeout = 3 * time.Second
	return api.New(s.URL(), w.token, api.WithHTTPClient(&hc))
}

// Leader waits until every running server but skip agrees on one running
// leader other than skip, and returns it.
func (w *World) Leader(ctx context.Context, skip *testbed.Server) (*testbed.Server, error) {
	var leader *testbed.Server
	err := testbed.Retry(ctx, 60*time.Second, func() error {
		leader = w.agreedLeader(ctx, skip)
		if leader == nil {
			return errors.New("no agreed leader")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("chaos: leader: %w", err)
	}
	return leader, nil
}

func (w *World) agreedLeader(ctx context.Context, skip *testbed.Server) *testbed.Server {
	id := ""
	for _, s := range w.Servers {
		if s == skip || !s.Running() {
			continue
		}
		st, err := w.Client(s).ClusterStatus(ctx)
		if err != nil || st.Leader == "" || (id != "" && st.Leader != id) {
			return nil
		}
		id = st.Leader
	}
	for _, s := range w.Servers {
		if s.ID == id && s != skip && s.Running() {
			return s
		}
	}
	return nil
}

// WaitAgent waits until the leader sees the agent connected since after,
// with every instance reported.
func (w *World) WaitAgent(ctx context.Context, after time.Time) error {
	err := testbed.Retry(ctx, 60*time.Second, func() error {
		leader := w.agreedLeader(ctx, nil)
		if leader == nil {
			return errors.New("no leader")
		}
		ag, err := w.Client(leader).GetAgent(ctx, agentName)
		if err == nil && (!ag.Connected || len(ag.Instances) < len(w.Instances) || ag.ConnectedAt.Before(after)) {
			err = errors.New("agent not connected yet")
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("chaos: agent: %w", err)
	}
	return nil
}

// Exec runs statements on database db as the application would.
func (w *World) Exec(ctx context.Context, db string, stmts ...string) error {
	conn, err := w.Conn(ctx, db)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("chaos: %s on %s: %w", firstLine(s), db, err)
		}
	}
	return nil
}

// Conn connects to database db, named as a chaos session.
func (w *World) Conn(ctx context.Context, db string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(w.PG.DSN(db))
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	cfg.RuntimeParams["application_name"] = "chaos-check"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("chaos: connect to %s: %w", db, err)
	}
	return conn, nil
}

// Query returns the first column of the first row of sql on database db.
func Query[T any](ctx context.Context, w *World, db, sql string, args ...any) (T, error) {
	var v T
	conn, err := w.Conn(ctx, db)
	if err != nil {
		return v, err
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(ctx, sql, args...).Scan(&v); err != nil {
		return v, fmt.Errorf("chaos: %s on %s: %w", firstLine(sql), db, err)
	}
	return v, nil
}

// restartServer starts s again and waits until it has caught up with the
// leader (it answers the cluster status with the leader's applied index).
func (w *World) restartServer(ctx context.Context, s *testbed.Server) error {
	if err := s.Start(ctx); err != nil {
		return fmt.Errorf("chaos: restart %s: %w", s.ID, err)
	}
	return w.caughtUp(ctx, s)
}

// caughtUp waits until s knows the leader and has applied at least what
// the leader had applied when it was asked.
func (w *World) caughtUp(ctx context.Context, s *testbed.Server) error {
	leader, err := w.Leader(ctx, nil)
	if err != nil {
		return err
	}
	st, err := w.Client(leader).ClusterStatus(ctx)
	if err != nil {
		return fmt.Errorf("chaos: leader status: %w", err)
	}
	err = testbed.Retry(ctx, 30*time.Second, func() error {
		got, err := w.Client(s).ClusterStatus(ctx)
		if err == nil && (got.Leader == "" || got.AppliedIndex < st.AppliedIndex) {
			err = fmt.Errorf("%s applied %d, the leader %d", s.ID, got.AppliedIndex, st.AppliedIndex)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("chaos: %s catching up: %w", s.ID, err)
	}
	return nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// ready waits, before a run, for a leader and the agent connected to it.
func (w *World) ready(ctx context.Context) error {
	if _, err := w.Leader(ctx, nil); err != nil {
		return err
	}
	return w.WaitAgent(ctx, time.Time{})
}

// repair undoes what a run's fault left behind: it thaws and restarts the
// agent, heals every link and restarts every stopped server, then waits
// for the world to be ready.
func (w *World) repair(ctx context.Context) error {
	_ = w.Agent.Signal(syscall.SIGCONT)
	if !w.Agent.Running() {
		if err := w.Agent.Start(); err != nil {
			return fmt.Errorf("chaos: restart the agent: %w", err)
		}
	}
	if w.AgentLink != nil {
		w.AgentLink.Heal()
	}
	for _, s := range w.Servers {
		if s.RaftProxy != nil {
			s.RaftProxy.Heal()
		}
		if !s.Running() {
			if err := w.restartServer(ctx, s); err != nil {
				return err
			}
		}
	}
	return w.ready(ctx)
}
