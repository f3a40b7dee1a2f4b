package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// agentName is the one agent of the benchmark; dbName its database.
const (
	agentName = "failover-host"
	dbName    = "orders"
)

// cluster is three hotswapd servers, one agent and the PostgreSQL it serves.
type cluster struct {
	o       options
	pg      *testbed.Postgres
	servers []*testbed.Server
	token   string
	agent   *testbed.Agent
}

func newCluster(ctx context.Context, o options, pg *testbed.Postgres, dir string) (*cluster, error) {
	c := &cluster{o: o, pg: pg}
	if err := c.start(ctx, dir); err != nil {
		c.close()
		return nil, err
	}
	if err := c.createDatabases(ctx); err != nil {
		c.close()
		return nil, err
	}
	if err := c.startAgent(ctx, dir); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// start launches the three servers as one Raft group and waits for a leader.
func (c *cluster) start(ctx context.Context, dir string) error {
	ports := make([][3]int, 3)
	var peers []string
	for i := range ports {
		for j := range ports[i] {
			p, err := testbed.FreePort()
			if err != nil {
				return err
			}
			ports[i][j] = p
		}
		peers = append(peers, fmt.Sprintf("s%d=127.0.0.1:%d", i+1, ports[i][2]))
	}
	for i := range ports {
		s, err := testbed.NewServer(filepath.Join(c.o.binDir, "hotswapd"), dir, testbed.ServerOptions{
			ID: fmt.Sprintf("s%d", i+1), Ports: ports[i], Peers: strings.Join(peers, ",")})
		if err != nil {
			return err
		}
		c.servers = append(c.servers, s)
		if err := s.Start(ctx); err != nil {
			return err
		}
	}
	var err error
	if c.token, err = c.bootstrapToken(ctx); err != nil {
		return err
	}
	_, err = c.waitLeader(ctx, nil, time.Now())
	return err
}

// bootstrapToken reads the admin token the first leader wrote to its data folder.
func (c *cluster) bootstrapToken(ctx context.Context) (string, error) {
	var tok string
	err := testbed.Retry(ctx, 60*time.Second, func() error {
		for _, s := range c.servers {
			if b, err := os.ReadFile(filepath.Join(s.DataDir, "bootstrap-token")); err == nil && len(b) > 0 {
				tok = strings.TrimSpace(string(b))
				return nil
			}
		}
		return errors.New("no bootstrap token yet")
	})
	return tok, err
}

// client is an API client of one server, with short timeouts: a dead
// server must not hold a poll up.
func (c *cluster) client(s *testbed.Server) *api.Client {
	hc := *s.HTTPClient()
	hc.Timeout = 2 * time.Second
	return api.New(s.URL(), c.token, api.WithHTTPClient(&hc))
}

func (c *cluster) createDatabases(ctx context.Context) error {
	admin, err := pgx.Connect(ctx, c.pg.DSN("app"))
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer admin.Close(ctx)
	for i := 0; i < c.o.instances; i++ {
		name := instanceDB(i)
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
			return fmt.Errorf("create %s: %w", name, err)
		}
		conn, err := pgx.Connect(ctx, c.pg.DSN(name))
		if err != nil {
			return fmt.Errorf("connect to %s: %w", name, err)
		}
		_, err = conn.Exec(ctx, "CREATE TABLE orders (id int PRIMARY KEY, total int)")
		conn.Close(ctx)
		if err != nil {
			return fmt.Errorf("create table in %s: %w", name, err)
		}
	}
	return nil
}

func instanceDB(i int) string { return fmt.Sprintf("copy%d", i) }

// startAgent registers the agent and the database (instance 0 the Master,
// the others independent copies: one Phased step each) and starts the
// agent with every server's address.
func (c *cluster) startAgent(ctx context.Context, dir string) error {
	leader, err := c.waitLeader(ctx, nil, time.Now())
	if err != nil {
		return err
	}
	cl := c.client(leader.server)
	var tok api.AgentTokenResponse
	if err := testbed.Retry(ctx, 60*time.Second, func() (err error) { tok, err = cl.CreateAgentToken(ctx, agentName); return err }); err != nil {
		return fmt.Errorf("create agent token: %w", err)
	}
	cfg := agentconfig.Config{Name: agentName, Token: tok.Token}
	for _, s := range c.servers {
		cfg.Servers = append(cfg.Servers, s.RPCAddr)
	}
	spec := domain.DatabaseSpec{Name: dbName, Type: domain.PostgreSQL, Environment: domain.Production}
	for i := 0; i < c.o.instances; i++ {
		id, role := instanceDB(i), domain.RoleAsyncReplica
		if i == 0 {
			role = domain.RoleMaster
		}
		cfg.Instances = append(cfg.Instances, agentconfig.InstanceConfig{ID: id, Engine: domain.PostgreSQL, DSN: c.pg.DSN(id)})
		spec.Instances = append(spec.Instances, domain.InstanceRef{Agent: agentName, InstanceID: id, Role: role})
	}
	if _, err := cl.CreateDatabase(ctx, spec); err != nil {
		return fmt.Errorf("register database: %w", err)
	}
	adir := filepath.Join(dir, "agent")
	if err := os.MkdirAll(adir, 0o700); err != nil {
		return err
	}
	if c.agent, err = testbed.NewAgent(filepath.Join(c.o.binDir, "hotswap-agent"), adir, cfg); err != nil {
		return err
	}
	return c.waitAgent(ctx, leader, time.Time{})
}

// waitAgent waits until the leader sees the agent connected since after,
// with every instance reported; it returns when it connected.
func (c *cluster) waitAgent(ctx context.Context, leader member, after time.Time) error {
	cl := c.client(leader.server)
	return testbed.Retry(ctx, 60*time.Second, func() error {
		ag, err := cl.GetAgent(ctx, agentName)
		if err == nil && (!ag.Connected || len(ag.Instances) < c.o.instances || !ag.ConnectedAt.After(after)) {
			err = errors.New("agent not connected yet")
		}
		return err
	})
}

func (c *cluster) close() {
	if c.agent != nil {
		c.agent.Kill()
	}
	for _, s := range c.servers {
		s.Kill()
	}
}
