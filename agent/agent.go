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
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/dialect/servershare"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/tracing"
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
	// servers holds the answers to server-wide questions, shared by the
	// instances that are databases of one server.
	servers *servershare.Cache

	steps *steps
	watch *watcher
	pre   *preflights
	// link is the open session's stream, nil between sessions.
	linkMu sync.Mutex
	link   agentpb.AgentLink_SessionClient

	metrics *agentMetrics
	tracer  trace.Tracer
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
	a := &Agent{cfg: cfg, log: log, conns: map[string]dialect.Conn{}, servers: servershare.New(), steps: newSteps(), watch: newWatcher(cfg.ProcRoot),
		pre: newPreflights(), metrics: newAgentMetrics(), tracer: tracing.OrNoop(nil).Tracer(tracerName)}
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
	next, redirects, failures := 0, 0, 0
	redirect := ""
	for ctx.Err() == nil {
		addr := redirect
		if addr == "" {
			addr = a.cfg.Servers[next%len(a.cfg.Servers)]
			next++
		}
		out := a.session(ctx, addr)
		if ctx.Err() != nil {
			return nil
		}
		if out.welcomed {
			backoff.reset() // every session accepted starts the backoff afresh
			failures = 0
		}
		redirect = out.redirect
		if redirect != "" && redirects < maxRedirects {
			redirects++
			a.log.Info("redirected to the leader", "from", addr, "to", redirect)
			continue // followed at once
		}
		redirects = 0
		failures++
		wait := retryWait(out.err, failures, len(a.cfg.Servers), backoff)
		if failures <= electionTries && electing(out.err) {
			redirect = addr // alive and electing: it will know the leader first
		}
		a.logSessionEnd(addr, out.err, wait, failures > len(a.cfg.Servers)+electionTries)
		sleep(ctx, wait)
	}
	return nil
}

// maxRedirects bounds the redirects followed in a row without a pause: a
// leader that has just lost its leadership may point back at a follower.
const maxRedirects = 3

// The waits between attempts while the cluster elects a leader: a server
// that answers "no leader yet" is asked again after about electionPause,
// at most electionTries times in a row before the backoff applies.
const (
	electionPause = 200 * time.Millisecond
	electionTries = 50
)

// retryWait is how long to wait after the failures-th failed attempt in a
// row. After a leader dies its address refuses connections while the
// others elect one: the other servers are tried at once, one of them may
// lead already; a server that answers but knows no leader yet is asked
// again soon, since an election takes about a second; anything else backs
// off, doubling.
func retryWait(err error, failures, servers int, b *backoff) time.Duration {
	switch {
	case failures < servers:
		return 0
	case failures <= electionTries && electing(err):
		return electionPause/2 + rand.N(electionPause/2+1)
	}
	return b.next()
}

// electing reports whether a server answered that it has no leader yet.
func electing(err error) bool {
	s, ok := status.FromError(err) // unwraps to the server's status
	return ok && s.Code() == codes.Unavailable && strings.Contains(s.Message(), "no leader")
}

// logSessionEnd says why a session ended: an authentication failure is an
// error the operator must fix; a reconnect is routine (a server restarts,
// the leader changes) until every server failed several times in a row
// (persistent), which is a warning.
func (a *Agent) logSessionEnd(addr string, err error, wait time.Duration, persistent bool) {
	msg := a.scrub(errString(err))
	switch {
	case errors.Is(err, ErrAuthentication):
		a.log.Error("authentication failed: check the agent's token", "server", addr, "error", msg, "retry_in", wait)
	case persistent:
		a.log.Warn("no server accepts the session; reconnecting", "server", addr, "error", msg, "retry_in", wait)
	default:
		a.log.Info("session ended; reconnecting", "server", addr, "error", msg, "retry_in", wait)
	}
}

// ErrAuthentication says the control plane refused the agent's token.
var ErrAuthentication = errors.New("agent: the control plane refused the agent's token")

// sessionEnd is how one session ended.
type sessionEnd struct {
	redirect string // the leader's address, when the server redirected the agent
	welcomed bool   // the server accepted the session
	err      error
}

// session runs one stream with one server.
func (a *Agent) session(ctx context.Context, addr string) sessionEnd {
	creds, err := linkCredentials(a.cfg.TLS)
	if err != nil {
		return sessionEnd{err: err}
	}
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(creds),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 10 * time.Second, Timeout: 5 * time.Second, PermitWithoutStream: true}),
		// A step carries a script of up to 10 MB; its result carries the statements.
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessageBytes), grpc.MaxCallSendMsgSize(maxMessageBytes)),
	)
	if err != nil {
		return sessionEnd{err: fmt.Errorf("dial %s: %w", addr, err)}
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+a.cfg.Token)
	stream, err := agentpb.NewAgentLinkClient(conn).Session(ctx)
	if err != nil {
		return sessionEnd{err: fmt.Errorf("open session: %w", classify(err))}
	}
	w, end := a.open(ctx, stream)
	if w == nil {
		return end
	}
	a.log.Info("connected", "server", addr, "server_id", w.GetServerId())
	a.setLink(stream)
	defer a.setLink(nil)
	redirect, err := a.heartbeat(ctx, stream, time.Duration(w.GetHeartbeatIntervalMs())*time.Millisecond)
	return sessionEnd{redirect: redirect, welcomed: true, err: classify(err)}
}

// open sends the Hello and reads the server's answer: a Welcome, or how
// the session ended before it began (a redirect, a refused token).
func (a *Agent) open(ctx context.Context, stream agentpb.AgentLink_SessionClient) (*agentpb.Welcome, sessionEnd) {
	a.preflightAll(ctx)
	host, _ := os.Hostname()
	hello := &agentpb.Hello{AgentName: a.cfg.Name, AgentVersion: Version, Hostname: host, Instances: a.probeAll(ctx),
		PoolerIds: a.poolerIDs(), PoolerTargets: a.poolerTargets()}
	// A Send that fails says only io.EOF: the server's answer, a message
	// or the status it ended the stream with, is read by Recv.
	sendErr := stream.Send(&agentpb.AgentMessage{Body: &agentpb.AgentMessage_Hello{Hello: hello}})
	first, err := stream.Recv()
	switch {
	case err != nil && sendErr != nil && !errors.Is(sendErr, io.EOF):
		return nil, sessionEnd{err: fmt.Errorf("send hello: %w", classify(sendErr))}
	case err != nil:
		return nil, sessionEnd{err: fmt.Errorf("await welcome: %w", classify(err))}
	case first.GetRedirect() != nil:
		return nil, sessionEnd{redirect: first.GetRedirect().GetLeaderRpcAddr()}
	case first.GetWelcome() == nil:
		return nil, sessionEnd{err: errors.New("the server's first message was neither welcome nor redirect")}
	}
	return first.GetWelcome(), sessionEnd{}
}

// classify marks the server's refusal of the token as ErrAuthentication.
func classify(err error) error {
	switch status.Code(err) {
	case codes.Unauthenticated, codes.PermissionDenied:
		return fmt.Errorf("%w: %s", ErrAuthentication, status.Convert(err).Message())
	}
	return err
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
	c, err := openInstance(ctx, in, a.servers)
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
