package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/controlplane/httpapi"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/api/openapi"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// The description of the API (internal/api/openapi, from api.Endpoints) is
// checked two ways: every route server.go registers is in it with its
// request and response schemas, and every answer the handler tests get from
// the real handler validates against it (specCheck, installed by
// newHarness). A new route fails TestSpecDescribesEveryRoute until its
// line is added to api.Endpoints.

// TestSpecDescribesEveryRoute compares the routes registered in server.go
// with the operations of the description.
func TestSpecDescribesEveryRoute(t *testing.T) {
	src, err := os.ReadFile("server.go")
	if err != nil {
		t.Fatal(err)
	}
	registered := map[string]bool{}
	for _, m := range routePattern.FindAllStringSubmatch(string(src), -1) {
		registered[m[1]] = true
	}
	doc := loadSpec(t)
	described := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			described[method+" "+path] = true
			checkOperation(t, method+" "+path, op)
		}
	}
	for _, p := range sortedKeys(registered) {
		if !described[p] {
			t.Errorf("route %q is registered in server.go but not described: add it to api.Endpoints (internal/api/endpoints.go)", p)
		}
	}
	for _, p := range sortedKeys(described) {
		if !registered[p] {
			t.Errorf("operation %q is described but server.go registers no such route", p)
		}
	}
}

// checkOperation fails when an operation lacks its request or answer
// schemas.
func checkOperation(t *testing.T, name string, op *openapi3.Operation) {
	t.Helper()
	if op.OperationID == "" || op.Summary == "" {
		t.Errorf("%s: no operationId or summary", name)
	}
	method, _, _ := strings.Cut(name, " ")
	if method == http.MethodPost || method == http.MethodPut {
		if op.RequestBody == nil || (op.RequestBody.Value.Content.Get("application/json") == nil &&
			op.RequestBody.Value.Content.Get(api.SnapshotMediaType) == nil) {
			t.Errorf("%s: no JSON (or file) request body schema", name)
		}
	}
	if op.Responses.Default() == nil {
		t.Errorf("%s: no error answer (default)", name)
	}
	success := 0
	for code, r := range op.Responses.Map() {
		if !strings.HasPrefix(code, "2") {
			continue
		}
		success++
		if code != "204" && len(r.Value.Content) == 0 {
			t.Errorf("%s: answer %s has no schema", name, code)
		}
	}
	if success == 0 {
		t.Errorf("%s: no success answer", name)
	}
}

// TestEveryOperationAnswersAsDescribed drives every operation to a success
// over a real FSM; specCheck validates each answer and records its
// operation.
func TestEveryOperationAnswersAsDescribed(t *testing.T) {
	h := newHarness(t)
	driveEveryOperation(t, h)
	for _, e := range api.Endpoints() {
		if !h.spec.succeeded(e.Name) {
			t.Errorf("%s (%s %s) was never answered with a success the description allows", e.Name, e.Method, e.Path)
		}
	}
}

// specChecker validates a handler's answers against the description.
type specChecker struct {
	router routers.Router
	mu     sync.Mutex
	ok     map[string]bool // operations answered with a valid success
}

// registerTextDecoders registers, once, the decoders of the text answers
// (kin-openapi keeps them in a package-level table).
var registerTextDecoders sync.Once

func newSpecChecker(t *testing.T) *specChecker {
	t.Helper()
	registerTextDecoders.Do(func() {
		// Exports are text, one record a line: checked as text.
		openapi3filter.RegisterBodyDecoder("application/x-ndjson", openapi3filter.PlainBodyDecoder)
		openapi3filter.RegisterBodyDecoder("text/csv", openapi3filter.PlainBodyDecoder)
		openapi3filter.RegisterBodyDecoder(api.EventStreamMediaType, openapi3filter.PlainBodyDecoder)
	})
	router, err := gorillamux.NewRouter(loadSpec(t))
	if err != nil {
		t.Fatalf("route the description: %v", err)
	}
	return &specChecker{router: router, ok: map[string]bool{}}
}

func (c *specChecker) succeeded(op string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ok[op]
}

// wrap serves next and checks each answer of a described route against the
// description; a request the server accepted (2xx) must be valid too.
func (c *specChecker) wrap(t *testing.T, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		c.check(t, r, body, rec)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

func (c *specChecker) check(t *testing.T, r *http.Request, body []byte, rec *httptest.ResponseRecorder) {
	req := r.Clone(context.Background())
	req.Body = io.NopCloser(bytes.NewReader(body))
	if len(body) > 0 && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json") // the server reads any body as JSON
	}
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		return // not described: TestSpecDescribesEveryRoute reports it
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	name := route.Operation.OperationID
	if err := openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
		Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes())), Options: opts}); err != nil {
		t.Errorf("%s %s answered %d, not as described (%s): %v\nbody: %s", r.Method, r.URL.Path, rec.Code, name, err,
			truncate(rec.Body.String()))
		return
	}
	if rec.Code >= 300 {
		return
	}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		t.Errorf("%s %s was accepted but is not a valid request (%s): %v\nbody: %s", r.Method, r.URL.Path, name, err, truncate(string(body)))
		return
	}
	c.mu.Lock()
	c.ok[name] = true
	c.mu.Unlock()
}

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	raw, err := openapi.Document("test")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatalf("load the description: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the description is not valid OpenAPI: %v", err)
	}
	return doc
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func truncate(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "..."
	}
	return s
}

// driveEveryOperation calls every operation of the API once with a request
// it succeeds on.
func driveEveryOperation(t *testing.T, h *harness) {
	t.Helper()
	ctx := context.Background()
	c := h.client
	f := h.addDatabase(t)
	m := h.addMigration(t, f, "c1")
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("Health", second(c.Health(ctx)))
	must("Metrics", second(c.Metrics(ctx)))
	must("OpenAPI", second(c.OpenAPI(ctx)))
	must("ClusterStatus", second(c.ClusterStatus(ctx)))
	must("JoinCluster", second(c.JoinCluster(ctx, api.JoinRequest{ID: "s2", RaftAddr: "10.0.0.2:7001",
		HTTPAddr: "10.0.0.2:7002", RPCAddr: "10.0.0.2:7003"})))
	self := api.MemberAddresses{RaftAddr: "10.0.0.2:7001", HTTPAddr: "10.0.0.2:7012", RPCAddr: "10.0.0.2:7013", IssuedAt: h.now()}
	self.Proof = httpapi.MemberAddressesProof(testSigningKey, "s2", self)
	must("RegisterMemberAddresses", second(c.RegisterMemberAddresses(ctx, "s2", self)))
	must("TransferLeadership", second(c.TransferLeadership(ctx, "s2")))
	must("RemoveServer", c.RemoveServer(ctx, "s2"))
	must("ListAgents", second(c.ListAgents(ctx, api.ListAgentsRequest{Limit: 5})))
	must("GetAgent", second(c.GetAgent(ctx, agentName)))
	must("CreateAgentToken", second(c.CreateAgentToken(ctx, "spare")))
	must("DeleteAgent", c.DeleteAgent(ctx, "spare"))
	must("ListDatabases", second(c.ListDatabases(ctx)))
	must("GetDatabase", second(c.GetDatabase(ctx, "app")))
	d := f.db
	spec := domain.DatabaseSpec{Name: d.Name, Type: d.Type, Environment: d.Environment, Labels: d.Labels, Instances: d.Instances}
	must("UpdateDatabase", second(c.UpdateDatabase(ctx, "app", spec)))
	must("DatabaseHealth", second(c.DatabaseHealth(ctx, "app")))
	must("DatabaseHistory", second(c.DatabaseHistory(ctx, "app")))
	spec.Name, spec.Instances = "spare", []domain.InstanceRef{{Agent: agentName, InstanceID: "spare", Role: domain.RoleMaster}}
	must("CreateDatabase", second(c.CreateDatabase(ctx, spec)))
	must("DeleteDatabase", c.DeleteDatabase(ctx, "spare"))
	must("ListMigrations", second(c.ListMigrations(ctx, api.ListMigrationsRequest{Database: "app", Limit: 5})))
	must("GetMigration", second(c.GetMigration(ctx, m.MigrationID)))
	must("UpdateMigration", second(c.UpdateMigration(ctx, m.MigrationID, domain.MigrationSpec{Name: m.Name,
		TargetDatabaseID: m.TargetDatabaseID, MigrationScript: m.MigrationScript, RollbackScript: m.RollbackScript})))
	must("PlanMigration", second(c.PlanMigration(ctx, m.MigrationID, "")))
	must("ValidateMigration", second(c.ValidateMigration(ctx, m.MigrationID, api.ValidateRequest{})))
	must("DeleteMigration", c.DeleteMigration(ctx, h.addMigration(t, f, "c2").MigrationID))
	driveGovernance(t, h, f, m)
	started, err := c.ExecuteMigration(ctx, m.MigrationID, api.ExecuteRequest{})
	must("ExecuteMigration", err)
	id := started.ExecutionID
	must("ListExecutions", second(c.ListExecutions(ctx, m.MigrationID)))
	must("GetExecution", second(c.GetExecution(ctx, m.MigrationID, id)))
	must("FindExecution", second(c.FindExecution(ctx, strings.TrimPrefix(id, "exec-")[:8])))
	must("ExecutionMetrics", second(c.ExecutionMetrics(ctx, m.MigrationID, id, 0)))
	driveStream(t, h, m.MigrationID, id)
	startExecution(t, h, id)
	must("PauseExecution", second(c.PauseExecution(ctx, m.MigrationID, id, api.PauseRequest{Reason: "lunch"})))
	must("ResumeExecution", second(c.ResumeExecution(ctx, m.MigrationID, id, api.ResumeRequest{})))
	done := make(chan rollbackResult, 1)
	go func() { done <- h.rollback(m.MigrationID, id, "latency doubled") }()
	waitFor(t, h, id, func(e domain.Execution) bool { return e.RollbackRequested })
	finishRollback(t, h, id)
	must("RollbackExecution", (<-done).err)
	failRollback(t, h, id)
	must("RetryRollback", second(c.RetryRollback(ctx, m.MigrationID, id, "dropped the view")))
	failRollback(t, h, id)
	must("ResolveExecution", second(c.ResolveExecution(ctx, m.MigrationID, id, "put right by hand")))
}

// driveStream opens an execution's event stream for a moment: the checked
// server reads each answer whole, so it sees (and checks) the stream once
// the client has gone.
func driveStream(t *testing.T, h *harness, migrationID, executionID string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_ = h.client.WatchExecution(ctx, migrationID, executionID, func(api.ExecutionEvent) error { return nil })
	deadline := time.Now().Add(20 * time.Second)
	for !h.spec.succeeded("WatchExecution") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
}

// failRollback records the execution as Failed by a failed rollback step.
func failRollback(t *testing.T, h *harness, id string) {
	t.Helper()
	e, err := h.raft.State().Execution(id)
	if err != nil {
		t.Fatal(err)
	}
	e.Status, e.RollingBack, e.CompletedAt = domain.ExecutionFailed, true, time.Now().UTC()
	e.Steps = append(e.Steps[:len(e.Steps):len(e.Steps)], domain.Step{StepID: "rb-" + strconv.Itoa(len(e.Steps)),
		Kind: domain.StepApply, Direction: domain.Rollback, Status: domain.StepFailed})
	h.raft.must(t, fsm.UpdateExecutionRequest{Execution: e})
}

// driveGovernance drives the users, login, approval and audit operations:
// a DBA is created, logs in, approves m and rejects another migration.
func driveGovernance(t *testing.T, h *harness, f fixture, m domain.Migration) {
	t.Helper()
	ctx, c := context.Background(), h.client
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	must("CreateUser", second(c.CreateUser(ctx, api.CreateUserRequest{Username: "dba1", Password: "a long enough passphrase", Role: domain.RoleDBA})))
	must("ListUsers", second(c.ListUsers(ctx)))
	login, err := c.Login(ctx, "dba1", "a long enough passphrase")
	must("Login", err)
	dba := api.New(h.srv.URL, login.Token)
	must("SubmitApproval", second(c.SubmitApproval(ctx, m.MigrationID, api.SubmitApprovalRequest{Notes: "before Friday"})))
	tok, err := dba.CreateToken(ctx, api.CreateTokenRequest{Name: "ci", ExpiresIn: "30d"})
	must("CreateToken", err)
	must("ListTokens", second(dba.ListTokens(ctx)))
	must("RevokeToken", dba.RevokeToken(ctx, tok.TokenID))
	must("ApproveMigration", second(dba.ApproveMigration(ctx, m.MigrationID, api.ApproveRequest{Notes: "reviewed"})))
	must("RejectMigration", second(dba.RejectMigration(ctx, h.addMigration(t, f, "c3").MigrationID, api.RejectRequest{Reason: "not now"})))
	must("MigrationApprovals", second(c.MigrationApprovals(ctx, m.MigrationID)))
	must("CreateUser", second(c.CreateUser(ctx, api.CreateUserRequest{Username: "gone", Password: "another long passphrase", Role: domain.RoleViewer})))
	must("DeleteUser", c.DeleteUser(ctx, "gone"))
	must("ListAudit", second(c.ListAudit(ctx, api.AuditQuery{Limit: 5})))
	must("ExportAudit", second(c.ExportAudit(ctx, "jsonl", api.AuditQuery{})))
	must("VerifyAudit", second(c.VerifyAudit(ctx)))
	must("MigrationAudit", second(c.MigrationAudit(ctx, m.MigrationID, 10, 0)))
	h.skew.Add(int64(400 * 24 * time.Hour))
	first := h.raft.State().AuditLog(fsm.AuditFilter{})[0]
	must("ArchiveAudit", second(c.ArchiveAudit(ctx, api.ArchiveAuditRequest{ThroughSeq: first.Seq, LastHash: first.Hash})))
	var file bytes.Buffer
	must("SaveSnapshot", second(c.SaveSnapshot(ctx, &file)))
	must("RestoreSnapshot", second(c.RestoreSnapshot(ctx, &file)))
}

func second[T any](_ T, err error) error { return err }

// TestDocsNeedNoToken fetches the description and the page without a token.
func TestDocsNeedNoToken(t *testing.T) {
	h := newHarness(t)
	if a := h.do(t, http.MethodGet, "/openapi.json", "", ""); a.status != http.StatusOK || !bytes.Contains(a.body, []byte(`"openapi": "3.1.0"`)) {
		t.Errorf("GET /openapi.json without a token = %d %.80s, want the description", a.status, a.body)
	}
	if a := h.do(t, http.MethodGet, "/swagger", "", ""); a.status != http.StatusOK || !bytes.Contains(a.body, []byte("swagger-ui-bundle.js")) {
		t.Errorf("GET /swagger without a token = %d %.80s, want the page", a.status, a.body)
	}
}
