package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"regexp"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/proto/agentpb"
)

// maxMessageBytes bounds one message on the session: two scripts' worth and more.
const maxMessageBytes = 4*domain.MaxScriptBytes + 1<<20

// Version is the agent's version, reported to the control plane.
var Version = "dev"

// Agent is a running hotswap-agent.
type Agent struct {
	cfg     agentconfig.Config
	log     hclog.Logger
	secrets []string

	mu    sync.Mutex
	conns map[string]dialect.Conn // by instance id, opened lazily

	steps *steps
	watch *watcher
	pre   *preflights
	// link is the open session's stream, nil between sessions.
	linkMu sync.Mutex
	link   agentpb.AgentLink_SessionClient

	metrics *agentMetrics
}

// send sends a message on the open session; without one it is dropped
// (a step's result is sent again when the step is re-delivered).
func (a *Agent) send(m *agentpb.AgentMessage) {
	a.linkMu.Lock()
	defer a.linkMu.Unlock()
	if a.link == nil {
		return
	}
	if err := a.link.Send(m); err != nil {
		a.log.Debug("send to the control plane", "error", err)
	}
}

func (a *Agent) setLink(l agentpb.AgentLink_SessionClient) {
	a.linkMu.Lock()
	a.link = l
	a.linkMu.Unlock()
	a.metrics.setConnected(l != nil)
}

// New returns an agent for cfg. Nothing is opened until Run.
func New(cfg agentconfig.Config, log hclog.Logger) *Agent {
	a := &Agent{cfg: cfg, log: log, conns: map[string]dialect.Conn{}, steps: newSteps(), watch: newWatcher(cfg.ProcRoot),
		pre: newPreflights(), metrics: newAgentMetrics()}
	for _, in := range cfg.Instances {
		a.secrets = append(a.secrets, secretsOf(in.DSN)...)
	}
	for _, p := range cfg.Poolers {
		a.secrets = append(a.secrets, secretsOf(p.AdminDSN)...)
	}
	a.secrets = append(a.secrets, cfg.Token)
	return a
}

// Run keeps a session with the leader until ctx ends: it dials a server,
// follows redirects to the leader, and reconnects with backoff and jitter.
func (a *Agent) Run(ctx context.Context) error {
	defer a.closeConns()
	if a.cfg.MetricsAddr != "" {
		if err := a.metrics.serve(ctx, a.cfg.MetricsAddr, a.log); err != nil {
			return err
		}
	}
	sampling, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	go a.sampleLoop(sampling)
	backoff := newBackoff(250*time.Millisecond, 10*time.Second)
	next := 0
	redirect := ""
	for ctx.Err() == nil {
		addr := redirect
		if addr == "" {
			addr = a.cfg.Servers[next%len(a.cfg.Servers)]
			next++
		}
		started := time.Now()
		to, err := a.session(ctx, addr)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(started) > 10*time.Second {
			backoff.reset()
		}
		redirect = to
		if to != "" {
			a.log.Info("redirected to the leader", "from", addr, "to", to)
			sleep(ctx, 50*time.Millisecond) // a new leader may still be registering
			continue
		}
		wait := backoff.next()
		a.log.Warn("session ended; reconnecting", "server", addr, "error", a.scrub(errString(err)), "retry_in", wait)
		sleep(ctx, wait)
	}
	return nil
}

// session runs one stream with one server. It returns the leader's address
// when the server redirected the agent there.
func (a *Agent) session(ctx context.Context, addr string) (redirect string, err error) {
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 10 * time.Second, Timeout: 5 * time.Second, PermitWithoutStream: true}),
		// A step carries a script of up to 10 MB; its result carries the statements.
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageBytes), grpc.MaxCallSendMsgSize(maxMessageBytes)),
	)
	if err != nil {
		return "", fmt.Errorf("dial %s: %w", addr, err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+a.cfg.Token)
	stream, err := agentpb.NewAgentLinkClient(conn).Session(ctx)
	if err != nil {
		return "", fmt.Errorf("open session: %w", err)
	}
	a.preflightAll(ctx)
	host, _ := os.Hostname()
	hello := &agentpb.Hello{AgentName: a.cfg.Name, AgentVersion: Version, Hostname: host, Instances: a.probeAll(ctx),
		PoolerIds: a.poolerIDs(), PoolerTargets: a.poolerTargets()}
	if err := stream.Send(&agentpb.AgentMessage{Body: &agentpb.AgentMessage_Hello{Hello: hello}}); err != nil {
		return "", fmt.Errorf("send hello: %w", err)
	}
	first, err := stream.Recv()
	if err != nil {
		return "", fmt.Errorf("await welcome: %w", err)
	}
	if r := first.GetRedirect(); r != nil {
		return r.GetLeaderRpcAddr(), nil
	}
	w := first.GetWelcome()
	if w == nil {
		return "", errors.New("the server's first message was neither welcome nor redirect")
	}
	a.log.Info("connected", "server", addr, "server_id", w.GetServerId())
	a.setLink(stream)
	defer a.setLink(nil)
	return a.heartbeat(ctx, stream, time.Duration(w.GetHeartbeatIntervalMs())*time.Millisecond)
}

// heartbeat probes the instances and reports them every interval, while
// watching the stream for a redirect or its end.
func (a *Agent) heartbeat(ctx context.Context, stream agentpb.AgentLink_SessionClient, every time.Duration) (string, error) {
	if every <= 0 {
		every = 2 * time.Second
	}
	type recv struct {
		msg *agentpb.ServerMessage
		err error
	}
	in := make(chan recv, 1)
	go func() {
		for {
			m, err := stream.Recv()
			select {
			case in <- recv{m, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case r := <-in:
			if r.err != nil {
				if errors.Is(r.err, io.EOF) {
					return "", errors.New("server closed the session")
				}
				return "", r.err
			}
			if rd := r.msg.GetRedirect(); rd != nil {
				return rd.GetLeaderRpcAddr(), nil
			}
			a.handle(ctx, r.msg)
		case <-tick.C:
			go a.sendHeartbeat(ctx)
		}
	}
}

// sendHeartbeat probes the instances and reports them. It runs beside the
// message loop so a slow probe never delays a step.
func (a *Agent) sendHeartbeat(ctx context.Context) {
	hb := &agentpb.Heartbeat{SentUnixMs: time.Now().UnixMilli(), Instances: a.probeAll(ctx)}
	a.send(&agentpb.AgentMessage{Body: &agentpb.AgentMessage_Heartbeat{Heartbeat: hb}})
}

// handle acts on a message from the control plane.
func (a *Agent) handle(ctx context.Context, m *agentpb.ServerMessage) {
	switch {
	case m.GetExecute() != nil:
		a.handleExecute(m.GetExecute())
	case m.GetCancel() != nil:
		a.handleCancel(m.GetCancel())
	case m.GetHistory() != nil:
		go a.handleHistory(ctx, m.GetHistory())
	case m.GetInspect() != nil:
		go a.handleInspect(ctx, m.GetInspect())
	}
}

// probeAll asks every instance who it is, concurrently, each within the
// probe timeout. An instance that cannot be reached is reported as such.
func (a *Agent) probeAll(ctx context.Context) []*agentpb.InstanceStatus {
	out := make([]*agentpb.InstanceStatus, len(a.cfg.Instances))
	var wg sync.WaitGroup
	for i, in := range a.cfg.Instances {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = agentpb.FromDomain(a.probe(ctx, in))
		}()
	}
	wg.Wait()
	return out
}

func (a *Agent) probe(ctx context.Context, in agentconfig.InstanceConfig) domain.InstanceStatus {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.ProbeTimeout)
	defer cancel()
	st := domain.InstanceStatus{InstanceID: in.ID, Engine: in.Engine, Role: domain.DetectedUnknown}
	conn, err := a.conn(ctx, in)
	if err == nil {
		var got domain.InstanceStatus
		got, err = conn.Probe(ctx)
		if err == nil {
			st = got
			st.InstanceID, st.Engine, st.Reachable = in.ID, in.Engine, true
			if st.Preflight = a.pre.get(in.ID); st.Preflight == nil {
				st.Preflight = a.preflight(ctx, in)
			}
		}
	}
	if err != nil {
		st.Error = a.scrub(err.Error())
		a.log.Debug("probe failed", "instance", in.ID, "error", st.Error)
	}
	st.CheckedAt = time.Now().UTC()
	return st
}

// conn returns the instance's pool, opening it on first use.
func (a *Agent) conn(ctx context.Context, in agentconfig.InstanceConfig) (dialect.Conn, error) {
	a.mu.Lock()
	c, ok := a.conns[in.ID]
	a.mu.Unlock()
	if ok {
		return c, nil
	}
	c, err := openInstance(ctx, in)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if prev, ok := a.conns[in.ID]; ok {
		c.Close()
		return prev, nil
	}
	a.conns[in.ID] = c
	return c, nil
}

func (a *Agent) closeConns() {
	a.watch.closeSamplers()
	a.mu.Lock()
	defer a.mu.Unlock()
	for id, c := range a.conns {
		c.Close()
		delete(a.conns, id)
	}
}

// scrub removes every credential the agent holds from a message.
func (a *Agent) scrub(msg string) string { return dialect.Scrub(msg, a.secrets...) }

var kvPassword = regexp.MustCompile(`(?i)\b(?:password|pwd)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s;]+)`)

// secretsOf returns the parts of a DSN that must never be shown: the DSN
// itself and its password, in URL or key=value form.
func secretsOf(dsn string) []string {
	secrets := []string{dsn}
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			secrets = append(secrets, p, url.QueryEscape(p), url.PathEscape(p))
		}
	}
	for _, m := range kvPassword.FindAllStringSubmatch(dsn, -1) {
		p := m[1]
		if len(p) >= 2 && p[0] == '\'' {
			p = p[1 : len(p)-1]
		}
		if p != "" {
			secrets = append(secrets, p)
		}
	}
	return secrets
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// backoff is exponential with full jitter.
type backoff struct {
	base, cap, cur time.Duration
}

func newBackoff(base, cap time.Duration) *backoff { return &backoff{base: base, cap: cap, cur: base} }

func (b *backoff) next() time.Duration {
	d := b.cur/2 + rand.N(b.cur/2+1)
	b.cur = min(b.cur*2, b.cap)
	return d
}

func (b *backoff) reset() { b.cur = b.base }
