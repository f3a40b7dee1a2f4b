package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/controlplane/httpapi"
	"github.com/hotswap-db/hotswap/controlplane/monitor"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/backup"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// localRaft is the API's Raft node in one process: every command is encoded
// as a log entry and applied straight to a real FSM, with no network. The
// node always leads, so no request is forwarded.
type localRaft struct {
	fsm  *fsm.FSM
	self domain.Server

	mu      sync.Mutex
	index   uint64
	applied int               // commands the FSM accepted
	voters  []string          // servers added with AddVoter
	addrs   map[string]string // their Raft addresses
	removed []string          // servers removed with RemoveServer
	// transfers are the targets of TransferLeadership ("" for any voter).
	transfers []string
}

var _ httpapi.Raft = (*localRaft)(nil)

func newLocalRaft() *localRaft {
	return &localRaft{fsm: fsm.New(nil), self: domain.Server{ID: "s1", RaftAddr: "127.0.0.1:7001",
		HTTPAddr: "127.0.0.1:7002", RPCAddr: "127.0.0.1:7003"}}
}

func (r *localRaft) State() *fsm.State   { return r.fsm.State() }
func (r *localRaft) Self() domain.Server { return r.self }
func (r *localRaft) IsLeader() bool      { return true }
func (r *localRaft) Ready() bool         { return true }

func (r *localRaft) Apply(_ context.Context, c fsm.Command) (uint64, error) {
	data, err := fsm.Encode(c)
	if err != nil {
		return 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.index++
	if res := r.fsm.Apply(&raft.Log{Index: r.index, Type: raft.LogCommand, Data: data}); res != nil {
		if err, ok := res.(error); ok {
			return r.index, err
		}
	}
	r.applied++
	return r.index, nil
}

func (r *localRaft) WaitApplied(context.Context, uint64) error { return nil }

func (r *localRaft) LeaderServer() (domain.Server, bool) { return r.self, true }

// LastContact is now: the node leads.
func (r *localRaft) LastContact() time.Time { return time.Now() }

func (r *localRaft) Status() (api.ClusterStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := api.ClusterStatus{ServerID: r.self.ID, State: "Leader", Leader: r.self.ID, AppliedIndex: r.fsm.LastApplied(),
		Servers: []api.ClusterServer{{ID: r.self.ID, RaftAddr: r.self.RaftAddr, Suffrage: "voter", Leader: true}}}
	for _, id := range r.voters {
		if !slices.Contains(r.removed, id) {
			st.Servers = append(st.Servers, api.ClusterServer{ID: id, RaftAddr: r.addrs[id], Suffrage: "voter"})
		}
	}
	return st, nil
}

// TransferLeadership records the transfer; the harness's server keeps leading.
func (r *localRaft) TransferLeadership(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.transfers = append(r.transfers, id)
	return nil
}

// SaveSnapshot writes the FSM's snapshot as a file, as a Raft node would.
func (r *localRaft) SaveSnapshot(w io.Writer, version string) (backup.Meta, error) {
	snap, err := r.fsm.Snapshot()
	if err != nil {
		return backup.Meta{}, err
	}
	sink := &memorySink{}
	if err := snap.Persist(sink); err != nil {
		return backup.Meta{}, err
	}
	return backup.Write(w, backup.Meta{ServerID: r.self.ID, Version: version, Index: r.fsm.LastApplied(), Term: 1,
		CreatedAt: time.Now().UTC()}, sink.Bytes())
}

// RestoreSnapshot restores the FSM from a file's state, keeping the servers.
func (r *localRaft) RestoreSnapshot(state []byte) (fsm.StateSummary, error) {
	rebased, summary, err := fsm.RebaseSnapshot(state, r.fsm.State().Servers())
	if err != nil {
		return summary, err
	}
	return summary, r.fsm.Restore(io.NopCloser(bytes.NewReader(rebased)))
}

// memorySink is a raft.SnapshotSink in memory.
type memorySink struct{ bytes.Buffer }

func (*memorySink) ID() string    { return "memory" }
func (*memorySink) Cancel() error { return nil }
func (*memorySink) Close() error  { return nil }

func (r *localRaft) AddVoter(id, raftAddr string, _ time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.voters = append(r.voters, id)
	if r.addrs == nil {
		r.addrs = map[string]string{}
	}
	r.addrs[id] = raftAddr
	return nil
}

func (r *localRaft) RemoveServer(id string, _ time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removed = append(r.removed, id)
	return nil
}

func (r *localRaft) appliedCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.applied
}

// must applies a command the test needs in the state, standing in for the
// part of the server that would commit it (the agents' link, the
// orchestrator).
func (r *localRaft) must(t *testing.T, c fsm.Command) {
	t.Helper()
	if _, err := r.Apply(context.Background(), c); err != nil {
		t.Fatalf("apply %T: %v", c, err)
	}
}

// presence is the leader's live view of the agents, set by the test.
type presence struct {
	mu   sync.Mutex
	live map[string]domain.AgentPresence
}

func (p *presence) Presence() map[string]domain.AgentPresence {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.live)
}

func (p *presence) set(agent string, ap domain.AgentPresence) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.live[agent] = ap
}

// history answers history reads with fixed rows per agent/instance.
type history map[string][]domain.HistoryRow

func (h history) History(_ context.Context, agent, instance string) ([]domain.HistoryRow, error) {
	rows, ok := h[agent+"/"+instance]
	if !ok {
		return nil, fmt.Errorf("agent %s is not connected", agent)
	}
	return rows, nil
}

// catalog answers catalog look-ups from fixed facts, by relation name.
type catalog struct {
	mu    sync.Mutex
	rels  map[string]domain.RelationFacts
	free  int64
	asked []domain.ObjectName
}

func (c *catalog) Inspect(_ context.Context, _, _ string, req domain.CatalogRequest) (domain.CatalogFacts, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rels == nil {
		return domain.CatalogFacts{}, fmt.Errorf("no catalog in this test")
	}
	out := domain.CatalogFacts{FreeDiskBytes: c.free}
	for _, n := range req.Relations {
		c.asked = append(c.asked, n)
		r, ok := c.rels[n.String()]
		if !ok {
			r = domain.RelationFacts{}
		}
		r.ObjectName = n
		out.Relations = append(out.Relations, r)
	}
	return out, nil
}

// samples has no sample of any instance.
type samples struct{}

func (samples) Latest(monitor.Key) (domain.Sample, bool) { return domain.Sample{}, false }

// metricsText stands in for the server's Prometheus handler.
type metricsText struct{}

func (metricsText) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	_, _ = w.Write([]byte("# TYPE up gauge\nup 1\n"))
}

// harness is the real API handler over a real FSM, served by httptest.
type harness struct {
	raft     *localRaft
	presence *presence
	history  history
	catalog  *catalog
	srv      *httptest.Server
	handler  http.Handler // the API's own handler, without the server around it
	token    string
	client   *api.Client
	spec     *specChecker     // validates every answer against the OpenAPI description
	skew     atomic.Int64     // added to the clock, to make time pass
	now      func() time.Time // the API's clock
}

const adminToken = "hst_test-admin-token"

// testSigningKey is the harness cluster's token signing key.
var testSigningKey = []byte("test-signing-key-of-32-bytes....")

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{raft: newLocalRaft(), presence: &presence{live: map[string]domain.AgentPresence{}},
		history: history{}, catalog: &catalog{}, token: adminToken}
	h.raft.must(t, fsm.CreateAPITokenRequest{Token: domain.APIToken{TokenID: "tok-1", Name: "admin", Role: "Admin"},
		Hash: httpapi.HashToken(adminToken)})
	h.raft.must(t, fsm.SetSigningKeyRequest{Key: testSigningKey})
	tick := ticking()
	clock := func() time.Time { return tick().Add(time.Duration(h.skew.Load())) }
	h.now = clock
	a := httpapi.New(httpapi.Config{Raft: h.raft, Presence: h.presence, Logger: hclog.NewNullLogger(),
		History: h.history, Samples: samples{}, MonitorWindow: time.Second, Clock: clock, Catalog: h.catalog,
		Metrics: metricsText{}})
	h.spec = newSpecChecker(t)
	h.handler = a.Handler()
	h.srv = httptest.NewServer(h.spec.wrap(t, h.handler))
	t.Cleanup(h.srv.Close)
	h.client = api.New(h.srv.URL, adminToken)
	return h
}

// ticking is a clock that moves one second at each reading, so what the
// API creates one after the other is ordered by its creation time.
func ticking() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

// answer is a raw HTTP answer.
type answer struct {
	status int
	body   []byte
}

// errorBody decodes the answer in the API's error format, failing the test
// when it is not in it.
func (a answer) errorBody(t *testing.T) api.ErrorDetail {
	t.Helper()
	var eb api.ErrorBody
	dec := json.NewDecoder(bytes.NewReader(a.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&eb); err != nil || eb.Error.Code == "" || eb.Error.Message == "" ||
		eb.Error.TraceID == "" || eb.Error.Timestamp.IsZero() {
		t.Fatalf("answer %d %s is not in the API's error format (code, message, traceId, timestamp): %v", a.status, a.body, err)
	}
	return eb.Error
}

// do sends a raw request with token (none when empty) and body as is.
func (h *harness) do(t *testing.T, method, path, token, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read the answer: %v", method, path, err)
	}
	return answer{status: resp.StatusCode, body: raw}
}

// view is what the state holds, to check a refused request changed nothing.
type view struct {
	Applied    int
	Agents     []domain.Agent
	Databases  []domain.Database
	Migrations []domain.Migration
	Executions []domain.Execution
}

func (h *harness) view() view {
	st := h.raft.State()
	return view{Applied: h.raft.appliedCount(), Agents: st.Agents(), Databases: st.Databases(),
		Migrations: st.Migrations(fsm.MigrationFilter{}), Executions: st.Executions(nil)}
}

// unchanged fails the test when the state is not what before says.
func (h *harness) unchanged(t *testing.T, before view) {
	t.Helper()
	if after := h.view(); !reflect.DeepEqual(before, after) {
		t.Errorf("the state changed:\nbefore %+v\nafter  %+v", before, after)
	}
}

// fixture is a registered agent that reports a primary and a standby, and a
// database made of them.
type fixture struct {
	db domain.Database
}

const agentName = "pg-host"

// addDatabase registers the agent over HTTP, records what it reports (the
// agents' link would) and registers database "app" over HTTP.
func (h *harness) addDatabase(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	if _, err := h.client.CreateAgentToken(ctx, agentName); err != nil {
		t.Fatalf("CreateAgentToken() error = %v", err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	reported := []domain.InstanceStatus{
		{InstanceID: "main", Engine: domain.PostgreSQL, Role: domain.DetectedPrimary, Reachable: true, CheckedAt: now},
		{InstanceID: "replica", Engine: domain.PostgreSQL, Role: domain.DetectedStandby, Reachable: true, CheckedAt: now},
	}
	h.raft.must(t, fsm.ReportAgentRequest{Name: agentName, Hostname: "db1", Version: "test", Instances: reported, ReportedAt: now})
	h.presence.set(agentName, domain.AgentPresence{Connected: true, ConnectedAt: now, LastSeen: now, Instances: reported})
	db, err := h.client.CreateDatabase(ctx, domain.DatabaseSpec{Name: "app", Type: domain.PostgreSQL,
		Environment: domain.Production, Labels: map[string]string{"team": "billing"},
		Instances: []domain.InstanceRef{{Agent: agentName, InstanceID: "main", Role: domain.RoleMaster},
			{Agent: agentName, InstanceID: "replica", Role: domain.RoleAsyncReplica}}})
	if err != nil {
		t.Fatalf("CreateDatabase() error = %v", err)
	}
	return fixture{db: db}
}

// addMigration creates a migration on the fixture's database over HTTP.
func (h *harness) addMigration(t *testing.T, f fixture, name string) domain.Migration {
	t.Helper()
	m, err := h.client.CreateMigration(context.Background(), domain.MigrationSpec{Name: name, TargetDatabaseID: f.db.DatabaseID,
		MigrationScript: "ALTER TABLE t ADD COLUMN " + name + " int;", RollbackScript: "ALTER TABLE t DROP COLUMN " + name + ";",
		Strategy: domain.Direct, RiskLevel: domain.RiskLow})
	if err != nil {
		t.Fatalf("CreateMigration(%s) error = %v", name, err)
	}
	return m
}

func hashOf(token string) string { return httpapi.HashToken(token) }
