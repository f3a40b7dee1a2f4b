// Package httpapi serves the control plane's HTTP API under /api/v1: auth,
// validation, forwarding writes to the leader, and the resources
// (databases, migrations, agents, cluster).
package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.opentelemetry.io/otel/trace"

	"github.com/hotswap-db/hotswap/controlplane/cluster"
	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/controlplane/monitor"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/backup"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/tracing"
)

// Raft is what the API needs of the local Raft node.
type Raft interface {
	State() *fsm.State
	Self() domain.Server
	IsLeader() bool
	Apply(ctx context.Context, c fsm.Command) (uint64, error)
	WaitApplied(ctx context.Context, index uint64) error
	LeaderServer() (domain.Server, bool)
	// LastContact is when this server last heard from the leader (now on
	// the leader, zero when never).
	LastContact() time.Time
	Status() (api.ClusterStatus, error)
	Ready() bool
	AddVoter(id, raftAddr string, timeout time.Duration) error
	RemoveServer(id string, timeout time.Duration) error
	// TransferLeadership hands the leadership to the voter id (any when empty).
	TransferLeadership(id string) error
	// SaveSnapshot writes a snapshot file of the committed state to w.
	SaveSnapshot(w io.Writer, version string) (backup.Meta, error)
	// RestoreSnapshot replaces the whole state with a verified file's state.
	RestoreSnapshot(state []byte) (fsm.StateSummary, error)
}

// Presence is the leader's live view of connected agents.
type Presence interface {
	Presence() map[string]domain.AgentPresence
}

// Config wires the API to the rest of the server.
type Config struct {
	Raft     Raft
	Presence Presence
	Logger   hclog.Logger
	Clock    func() time.Time // nil: time.Now
	Metrics  http.Handler     // served at /metrics when not nil
	// ExecutionTimeout is the default timeout of an execution (30 min).
	ExecutionTimeout time.Duration
	// History reads an instance's history table through its agent.
	History HistoryReader
	// MonitorWindow is the default monitor window after each step.
	MonitorWindow time.Duration
	// Thresholds are the default rollback thresholds (zero fields: the reference's).
	Thresholds domain.Thresholds
	// Samples are the latest samples the agents streamed (the leader's).
	Samples LatestSamples
	// ObserveValidation, when set, records how long validating a migration took.
	ObserveValidation func(time.Duration)
	// Version is the server's build version, shown in /health and the
	// OpenAPI description.
	Version string
	// Catalog reads an instance's catalog through its agent, for the live
	// validation of a migration; nil validates statically.
	Catalog CatalogReader
	// TokenTTL is how long a login token lasts (DefaultTokenTTL when zero).
	TokenTTL time.Duration
	// AuditRetention is how long audit entries stay in the state before
	// they may be archived (DefaultAuditRetention when zero).
	AuditRetention time.Duration
	// PeerTLS, when set, is how a request is forwarded to the leader over
	// HTTPS (built per connection, so a certificate reload applies); nil
	// forwards over plain HTTP.
	PeerTLS func() *tls.Config
	// LeaderTimeout is how long this server may go without hearing from
	// the leader before it stops forwarding requests to it and gives up on
	// those it forwarded (zero: Raft's heartbeat timeout).
	LeaderTimeout time.Duration
	// Tracing makes the spans of each request (nil: none).
	Tracing trace.TracerProvider
}

// LatestSamples gives an instance's newest sample.
type LatestSamples interface {
	Latest(k monitor.Key) (domain.Sample, bool)
}

// HistoryReader asks an agent for an instance's history table.
type HistoryReader interface {
	History(ctx context.Context, agent, instance string) ([]domain.HistoryRow, error)
}

// API is the HTTP API of one server.
type API struct {
	raft     Raft
	presence Presence
	log      hclog.Logger
	now      func() time.Time
	forward  *forwarder
	metrics  http.Handler
	history  HistoryReader
	catalog  CatalogReader

	defaults     atomic.Pointer[ExecutionDefaults]
	samples      LatestSamples
	observeValid func(time.Duration)
	version      string
	openAPI      []byte
	tokenTTL     time.Duration
	// auditRetention: entries younger than this are never archived.
	auditRetention time.Duration
	limiter        *loginLimiter
	tracer         trace.Tracer
	// closing ends when the server shuts down: long-lived answers (event
	// streams) end with it, so they do not hold the shutdown up.
	closing context.Context
	close   context.CancelFunc
}

// indexHeader carries the Raft index of a write, so a server that forwarded
// it can wait until it has applied that index before answering.
const indexHeader = "X-Hotswap-Index"

// New builds the API.
func New(cfg Config) *API {
	a := &API{raft: cfg.Raft, presence: cfg.Presence, log: cfg.Logger, now: cfg.Clock, metrics: cfg.Metrics,
		history: cfg.History, samples: cfg.Samples, observeValid: cfg.ObserveValidation, catalog: cfg.Catalog,
		version: cfg.Version, tokenTTL: cfg.TokenTTL, limiter: newLoginLimiter()}
	a.openAPI = describe(cfg.Version)
	a.tracer = tracing.OrNoop(cfg.Tracing).Tracer(tracerName)
	a.closing, a.close = context.WithCancel(context.Background())
	if a.tokenTTL <= 0 {
		a.tokenTTL = DefaultTokenTTL
	}
	a.auditRetention = cfg.AuditRetention
	if a.auditRetention <= 0 {
		a.auditRetention = DefaultAuditRetention
	}
	a.SetExecutionDefaults(ExecutionDefaults{Timeout: cfg.ExecutionTimeout, MonitorWindow: cfg.MonitorWindow,
		Thresholds: cfg.Thresholds})
	if a.observeValid == nil {
		a.observeValid = func(time.Duration) {}
	}
	if a.now == nil {
		a.now = time.Now
	}
	leaderTimeout := cfg.LeaderTimeout
	if leaderTimeout <= 0 {
		leaderTimeout = cluster.HeartbeatTimeout
	}
	a.forward = newForwarder(cfg.Raft, cfg.Logger, cfg.PeerTLS, leaderTimeout)
	return a
}

// Handler returns the API's routes.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", a.health)
	if a.metrics != nil {
		mux.Handle("GET /metrics", a.metrics)
	}
	mux.HandleFunc("GET /openapi.json", a.serveOpenAPI)
	serveSwagger(mux)
	serveConsole(mux)
	a.route(mux, "POST /api/v1/authentication/login", leader, a.login)
	a.route(mux, "POST /api/v1/users", leader, a.createUser)
	a.route(mux, "GET /api/v1/users", local, a.listUsers)
	a.route(mux, "DELETE /api/v1/users/{username}", leader, a.deleteUser)
	a.route(mux, "POST /api/v1/tokens", leader, a.createToken)
	a.route(mux, "GET /api/v1/tokens", local, a.listTokens)
	a.route(mux, "DELETE /api/v1/tokens/{id}", leader, a.revokeToken)

	a.route(mux, "GET /api/v1/audit-log", local, a.listAudit)
	a.route(mux, "GET /api/v1/audit-log/export", local, a.exportAudit)
	a.route(mux, "GET /api/v1/audit-log/verify", local, a.verifyAudit)
	a.route(mux, "POST /api/v1/audit-log/archive", leader, a.archiveAudit)
	a.route(mux, "GET /api/v1/migrations/{id}/audit-log", local, a.migrationAudit)

	a.route(mux, "GET /api/v1/cluster", local, a.clusterStatus)
	a.route(mux, "POST /api/v1/cluster/join", leader, a.clusterJoin)
	a.route(mux, "PUT /api/v1/cluster/servers/{id}", leader, a.registerMember)
	a.route(mux, "DELETE /api/v1/cluster/servers/{id}", leader, a.clusterRemove)
	a.route(mux, "POST /api/v1/cluster/leadership-transfer", leader, a.transferLeadership)
	a.route(mux, "GET /api/v1/operator/snapshot", leader, a.saveSnapshot)
	a.route(mux, "POST /api/v1/operator/snapshot", leader, a.restoreSnapshot)

	a.route(mux, "POST /api/v1/agents", leader, a.createAgent)
	a.route(mux, "GET /api/v1/agents", leader, a.listAgents)
	a.route(mux, "GET /api/v1/agents/{name}", leader, a.getAgent)
	a.route(mux, "DELETE /api/v1/agents/{name}", leader, a.deleteAgent)

	a.route(mux, "POST /api/v1/databases", leader, a.createDatabase)
	a.route(mux, "GET /api/v1/databases", local, a.listDatabases)
	a.route(mux, "GET /api/v1/databases/{id}", local, a.getDatabase)
	a.route(mux, "PUT /api/v1/databases/{id}", leader, a.updateDatabase)
	a.route(mux, "DELETE /api/v1/databases/{id}", leader, a.deleteDatabase)
	a.route(mux, "GET /api/v1/databases/{id}/health", leader, a.databaseHealth)

	a.route(mux, "POST /api/v1/migrations", leader, a.createMigration)
	a.route(mux, "GET /api/v1/migrations", local, a.listMigrations)
	a.route(mux, "GET /api/v1/migrations/{id}", local, a.getMigration)
	a.route(mux, "PUT /api/v1/migrations/{id}", leader, a.updateMigration)
	a.route(mux, "DELETE /api/v1/migrations/{id}", leader, a.deleteMigration)
	a.route(mux, "POST /api/v1/migrations/{id}/execute", leader, a.executeMigration)
	a.route(mux, "GET /api/v1/migrations/{id}/plan", local, a.planMigration)
	a.route(mux, "POST /api/v1/migrations/{id}/submit-approval", leader, a.submitApproval)
	a.route(mux, "POST /api/v1/migrations/{id}/approve", leader, a.approveMigration)
	a.route(mux, "POST /api/v1/migrations/{id}/reject", leader, a.rejectMigration)
	a.route(mux, "GET /api/v1/migrations/{id}/approvals", local, a.listApprovals)
	a.route(mux, "POST /api/v1/migrations/{id}/validate", leader, a.validateMigration)
	a.route(mux, "GET /api/v1/executions/{executionId}", local, a.getExecutionByID)
	a.route(mux, "GET /api/v1/migrations/{id}/executions", local, a.listExecutions)
	a.route(mux, "GET /api/v1/migrations/{id}/executions/{executionId}", local, a.getExecution)
	a.route(mux, "POST /api/v1/migrations/{id}/executions/{executionId}/rollback", leader, a.rollbackExecution)
	a.route(mux, "POST /api/v1/migrations/{id}/executions/{executionId}/rollback/retry", leader, a.retryRollback)
	a.route(mux, "POST /api/v1/migrations/{id}/executions/{executionId}/resolve", leader, a.resolveExecution)
	a.route(mux, "GET /api/v1/migrations/{id}/executions/{executionId}/metrics", local, a.executionMetrics)
	a.route(mux, "GET /api/v1/migrations/{id}/executions/{executionId}/events", local, a.watchExecution)
	a.route(mux, "POST /api/v1/migrations/{id}/executions/{executionId}/pause", leader, a.pauseExecution)
	a.route(mux, "POST /api/v1/migrations/{id}/executions/{executionId}/resume", leader, a.resumeExecution)
	a.route(mux, "GET /api/v1/databases/{id}/history", leader, a.databaseHistory)

	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		a.fail(w, r, notFound("no such endpoint: "+r.Method+" "+r.URL.Path))
	})
	return a.traced(serveAliases(mux))
}

// Close ends the API's long-lived answers (event streams); the server calls
// it when it shuts down (http.Server.RegisterOnShutdown), since a stream
// would otherwise keep its connection busy until the shutdown times out.
func (a *API) Close() { a.close() }

// where says which server must answer a route.
type where int

const (
	local  where = iota // any server, from its committed state
	leader              // the leader: writes, and live views only it holds
)

// handlerFunc is an endpoint: it returns an error instead of writing one.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p principal) error

// principal is who made a request.
type principal struct {
	Name string
	Role string
	user bool // a user (login token or personal API token), not a cluster token
}

// route registers an endpoint behind the common skeleton:
// authenticate -> authorize -> forward to the leader when needed -> handle
// -> map errors.
func (a *API) route(mux *http.ServeMux, pattern string, w where, h handlerFunc) {
	mux.HandleFunc(pattern, func(rw http.ResponseWriter, r *http.Request) {
		if !a.raft.Ready() {
			a.fail(rw, r, unavailable("this server is replaying its log after a restart; retry shortly"))
			return
		}
		p, err := a.admit(r, pattern)
		if err != nil {
			a.fail(rw, r, err)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		if w == leader && !a.raft.IsLeader() {
			a.forward.serve(rw, r, a.fail)
			return
		}
		if err := a.operation(pattern, h)(rw, r, p); err != nil {
			a.fail(rw, r, err)
		}
	})
}

var errUnauthorized = &apiError{http.StatusUnauthorized, api.CodeUnauthorized,
	"missing or invalid bearer token: send 'Authorization: Bearer <token>'", nil}

// admit authenticates the caller, unless the route is public, and checks
// the rule table.
func (a *API) admit(r *http.Request, pattern string) (principal, error) {
	if rules[pattern].public {
		return principal{}, nil
	}
	p, err := a.authenticate(r)
	if err != nil {
		return principal{}, err
	}
	return p, authorize(pattern, p)
}

// authenticate finds who sent the bearer token: a login token (JWT) or an
// API token. An agent's token is not among either and is refused.
func (a *API) authenticate(r *http.Request) (principal, error) {
	// The token is taken exactly as sent: surrounding white space is not
	// trimmed, so " tok" and "tok\n" are other (unknown) tokens.
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || raw == "" {
		return principal{}, errUnauthorized
	}
	if looksLikeJWT(raw) {
		return a.verifyLoginToken(raw)
	}
	tok, ok := a.raft.State().APITokenByHash(HashToken(raw))
	if !ok {
		return principal{}, errUnauthorized
	}
	return a.tokenPrincipal(tok)
}

// HashToken is how tokens are stored: hex SHA-256. Tokens are 256-bit
// random values, so a fast hash is enough.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewToken returns a new random token with a prefix telling what it is for.
func NewToken(prefix string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return prefix + hex.EncodeToString(b)
}

func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	ae := toAPIError(err)
	trace, _ := r.Context().Value(traceKey{}).(string)
	switch {
	case ae.status == http.StatusServiceUnavailable:
		// Expected while the cluster elects a leader or replays its log:
		// the client is told to retry; it is no fault of this server.
		a.log.Info("request refused: unavailable", "method", r.Method, "path", r.URL.Path, "trace", trace, "reason", err)
	case ae.status >= 500:
		a.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "trace", trace, "error", err)
	}
	if notApplied(ae, err) {
		w.Header().Set(api.NotAppliedHeader, "true")
	}
	writeJSON(w, ae.status, api.ErrorBody{Error: api.ErrorDetail{
		Code: ae.code, Message: ae.message, Details: ae.details, TraceID: trace, Timestamp: a.now().UTC(),
	}})
}

type principalKey struct{}

// commit applies a command, wrapped with who asked for it for the audit
// log, and tells a forwarding server which index to wait for.
func (a *API) commit(w http.ResponseWriter, r *http.Request, c fsm.Command) error {
	if p, ok := r.Context().Value(principalKey{}).(principal); ok {
		wrapped, err := fsm.Audited(c, p.Name, p.Role, a.clientAddr(r), a.now().UTC().Truncate(time.Millisecond))
		if err != nil {
			return err
		}
		c = wrapped
	}
	idx, err := a.raft.Apply(r.Context(), c)
	if idx > 0 {
		w.Header().Set(indexHeader, itoa(idx))
	}
	return err
}

func (a *API) health(w http.ResponseWriter, r *http.Request) {
	st, err := a.raft.Status()
	body := api.Health{Status: "ok", ServerID: st.ServerID, State: st.State, Leader: st.Leader, Version: a.version}
	code := http.StatusOK
	switch {
	case err == nil && removedFrom(st):
		body.Status, body.Reason = "removed", "removed from the Raft configuration: stop it, or add it again (hotswap cluster join)"
		code = http.StatusServiceUnavailable
	case err != nil || st.Leader == "":
		body.Status, body.Reason = "degraded", "no leader known: an election is under way, or the cluster lost quorum"
		code = http.StatusServiceUnavailable
	case !a.raft.Ready():
		body.Status, body.Reason = "starting", "replaying the log"
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, body)
}

var errNoLeader = errors.New("no leader is known: an election is under way, or the cluster lost quorum " +
	"(a majority of its voters must be up and reach each other); nothing was applied, retry shortly")
