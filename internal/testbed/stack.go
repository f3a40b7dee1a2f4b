package testbed

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// StackOptions says what StartStack runs: one hotswapd, one agent serving
// one instance, and that instance registered as a one-instance database.
type StackOptions struct {
	BinDir   string // holds hotswapd and hotswap-agent
	Dir      string // scratch folder: the server's and the agent's data
	ServerID string // hotswapd's --server-id
	// ServerArgs are extra hotswapd flags.
	ServerArgs []string
	// Agent is the agent's name; Instance the one instance it serves.
	Agent    string
	Instance agentconfig.InstanceConfig
	// Database is the database's name, registered with Instance as its
	// master in Environment (default Production).
	Database    string
	Environment domain.Environment
}

// Stack is what StartStack started, for benchmarks and demos that drive
// HotSwap from outside as a user would.
type Stack struct {
	Server *Server
	Agent  *Agent
	API    *api.Client // the bootstrap admin's client
}

// StartStack starts hotswapd, creates the agent's token, starts the agent,
// registers the database and waits until the agent is connected. On an
// error what was started is stopped.
func StartStack(ctx context.Context, o StackOptions) (*Stack, error) {
	st := &Stack{}
	if err := st.start(ctx, o); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func (st *Stack) start(ctx context.Context, o StackOptions) error {
	srv, err := NewServer(filepath.Join(o.BinDir, "hotswapd"), o.Dir, ServerOptions{ID: o.ServerID, Args: o.ServerArgs})
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	st.Server = srv
	tok, err := srv.Token(ctx)
	if err != nil {
		return err
	}
	st.API = api.New(srv.URL(), tok)
	if err := st.startAgent(ctx, o); err != nil {
		return err
	}
	env := o.Environment
	if env == "" {
		env = domain.Production
	}
	if _, err := st.API.CreateDatabase(ctx, domain.DatabaseSpec{Name: o.Database, Type: o.Instance.Engine,
		Environment: env,
		Instances:   []domain.InstanceRef{{Agent: o.Agent, InstanceID: o.Instance.ID, Role: domain.RoleMaster}}}); err != nil {
		return fmt.Errorf("register database %s: %w", o.Database, err)
	}
	return Retry(ctx, 20*time.Second, func() error {
		ag, err := st.API.GetAgent(ctx, o.Agent)
		if err == nil && !ag.Connected {
			err = fmt.Errorf("agent %s not connected", o.Agent)
		}
		return err
	})
}

// startAgent creates the agent's token and starts it.
func (st *Stack) startAgent(ctx context.Context, o StackOptions) error {
	var tok api.AgentTokenResponse
	if err := Retry(ctx, 20*time.Second, func() (err error) { tok, err = st.API.CreateAgentToken(ctx, o.Agent); return err }); err != nil {
		return fmt.Errorf("create agent token: %w", err)
	}
	dir := filepath.Join(o.Dir, "agent")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	a, err := NewAgent(filepath.Join(o.BinDir, "hotswap-agent"), dir, agentconfig.Config{Name: o.Agent, Token: tok.Token,
		Servers: []string{st.Server.RPCAddr}, Instances: []agentconfig.InstanceConfig{o.Instance}})
	if a != nil {
		st.Agent = a
	}
	return err
}

// Close kills the agent and stops the server.
func (st *Stack) Close() {
	if st.Agent != nil {
		st.Agent.Kill()
	}
	if st.Server != nil {
		st.Server.Stop()
	}
}
