package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// routePattern finds the patterns Handler registers in server.go.
var routePattern = regexp.MustCompile(`(?:a\.route\(mux, |mux\.Handle(?:Func)?\()"((?:GET|POST|PUT|DELETE) /[^"]*)"`)

// TestEveryRouteHasAClientMethod serves each route Handler registers with a
// recorder and calls every method of the typed client: each route must be
// reached by one, and each method must reach a route.
func TestEveryRouteHasAClientMethod(t *testing.T) {
	src, err := os.ReadFile("server.go")
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, m := range routePattern.FindAllStringSubmatch(string(src), -1) {
		patterns = append(patterns, m[1])
	}
	if len(patterns) < 20 {
		t.Fatalf("found %d routes in server.go; the pattern no longer matches how routes are registered", len(patterns))
	}
	var mu sync.Mutex
	hit := map[string]bool{}
	mux := http.NewServeMux()
	for _, p := range patterns {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			hit[r.Pattern] = true
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte("{}"))
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the client sent %s %s, which no route serves", r.Method, r.URL.Path)
		http.NotFound(w, r)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	for name, call := range everyClientCall(api.New(srv.URL, "t")) {
		if err := call(context.Background()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	var missing []string
	for _, p := range patterns {
		if !hit[p] {
			missing = append(missing, p)
		}
	}
	sort.Strings(missing)
	for _, p := range missing {
		t.Errorf("route %q has no client method (internal/api)", p)
	}
}

// everyClientCall calls each endpoint method of the client once.
func everyClientCall(c *api.Client) map[string]func(context.Context) error {
	const mig, exec = "mig-1", "exec-1"
	ignore := func(_ any, err error) error { return err }
	return map[string]func(context.Context) error{
		"Health":        func(ctx context.Context) error { return ignore(c.Health(ctx)) },
		"Metrics":       func(ctx context.Context) error { return ignore(c.Metrics(ctx)) },
		"OpenAPI":       func(ctx context.Context) error { return ignore(c.OpenAPI(ctx)) },
		"ClusterStatus": func(ctx context.Context) error { return ignore(c.ClusterStatus(ctx)) },
		"JoinCluster":   func(ctx context.Context) error { return ignore(c.JoinCluster(ctx, api.JoinRequest{ID: "s2"})) },
		"RemoveServer":  func(ctx context.Context) error { return c.RemoveServer(ctx, "s2") },
		"RegisterMemberAddresses": func(ctx context.Context) error {
			return ignore(c.RegisterMemberAddresses(ctx, "s2", api.MemberAddresses{}))
		},
		"ArchiveAudit": func(ctx context.Context) error {
			return ignore(c.ArchiveAudit(ctx, api.ArchiveAuditRequest{ThroughSeq: 1, LastHash: "h"}))
		},
		"MigrationAudit": func(ctx context.Context) error { return ignore(c.MigrationAudit(ctx, "mig-1", 0, 0)) },
		"SubmitApproval": func(ctx context.Context) error {
			return ignore(c.SubmitApproval(ctx, "mig-1", api.SubmitApprovalRequest{}))
		},
		"CreateToken": func(ctx context.Context) error {
			return ignore(c.CreateToken(ctx, api.CreateTokenRequest{Name: "ci"}))
		},
		"ListTokens":         func(ctx context.Context) error { return ignore(c.ListTokens(ctx)) },
		"RevokeToken":        func(ctx context.Context) error { return c.RevokeToken(ctx, "tok-1") },
		"TransferLeadership": func(ctx context.Context) error { return ignore(c.TransferLeadership(ctx, "s2")) },
		"SaveSnapshot":       func(ctx context.Context) error { return ignore(c.SaveSnapshot(ctx, io.Discard)) },
		"RestoreSnapshot": func(ctx context.Context) error {
			return ignore(c.RestoreSnapshot(ctx, strings.NewReader("file")))
		},
		"CreateAgentToken":  func(ctx context.Context) error { return ignore(c.CreateAgentToken(ctx, "h")) },
		"ListAgents":        func(ctx context.Context) error { return ignore(c.ListAgents(ctx, api.ListAgentsRequest{})) },
		"GetAgent":          func(ctx context.Context) error { return ignore(c.GetAgent(ctx, "h")) },
		"DeleteAgent":       func(ctx context.Context) error { return c.DeleteAgent(ctx, "h") },
		"CreateDatabase":    func(ctx context.Context) error { return ignore(c.CreateDatabase(ctx, specDB)) },
		"ListDatabases":     func(ctx context.Context) error { return ignore(c.ListDatabases(ctx)) },
		"GetDatabase":       func(ctx context.Context) error { return ignore(c.GetDatabase(ctx, "app")) },
		"UpdateDatabase":    func(ctx context.Context) error { return ignore(c.UpdateDatabase(ctx, "app", specDB)) },
		"DeleteDatabase":    func(ctx context.Context) error { return c.DeleteDatabase(ctx, "app") },
		"DatabaseHealth":    func(ctx context.Context) error { return ignore(c.DatabaseHealth(ctx, "app")) },
		"DatabaseHistory":   func(ctx context.Context) error { return ignore(c.DatabaseHistory(ctx, "app")) },
		"CreateMigration":   func(ctx context.Context) error { return ignore(c.CreateMigration(ctx, specMig)) },
		"ListMigrations":    func(ctx context.Context) error { return ignore(c.ListMigrations(ctx, api.ListMigrationsRequest{})) },
		"GetMigration":      func(ctx context.Context) error { return ignore(c.GetMigration(ctx, mig)) },
		"UpdateMigration":   func(ctx context.Context) error { return ignore(c.UpdateMigration(ctx, mig, specMig)) },
		"DeleteMigration":   func(ctx context.Context) error { return c.DeleteMigration(ctx, mig) },
		"ExecuteMigration":  func(ctx context.Context) error { return ignore(c.ExecuteMigration(ctx, mig, api.ExecuteRequest{})) },
		"PlanMigration":     func(ctx context.Context) error { return ignore(c.PlanMigration(ctx, mig, "")) },
		"ValidateMigration": func(ctx context.Context) error { return ignore(c.ValidateMigration(ctx, mig, api.ValidateRequest{})) },
		"ListExecutions":    func(ctx context.Context) error { return ignore(c.ListExecutions(ctx, mig)) },
		"GetExecution":      func(ctx context.Context) error { return ignore(c.GetExecution(ctx, mig, exec)) },
		"FindExecution":     func(ctx context.Context) error { return ignore(c.FindExecution(ctx, exec)) },
		"RollbackExecution": func(ctx context.Context) error { return ignore(c.RollbackExecution(ctx, mig, exec, "why")) },
		"RetryRollback":     func(ctx context.Context) error { return ignore(c.RetryRollback(ctx, mig, exec, "fixed")) },
		"ResolveExecution":  func(ctx context.Context) error { return ignore(c.ResolveExecution(ctx, mig, exec, "fixed")) },
		"ExecutionMetrics":  func(ctx context.Context) error { return ignore(c.ExecutionMetrics(ctx, mig, exec, 0)) },
		"PauseExecution":    func(ctx context.Context) error { return ignore(c.PauseExecution(ctx, mig, exec, api.PauseRequest{})) },
		"WatchExecution": func(ctx context.Context) error {
			return c.WatchExecution(ctx, mig, exec, func(api.ExecutionEvent) error { return nil })
		},
		"ResumeExecution":  func(ctx context.Context) error { return ignore(c.ResumeExecution(ctx, mig, exec, api.ResumeRequest{})) },
		"ApproveMigration": func(ctx context.Context) error { return ignore(c.ApproveMigration(ctx, mig, api.ApproveRequest{})) },
		"RejectMigration": func(ctx context.Context) error {
			return ignore(c.RejectMigration(ctx, mig, api.RejectRequest{Reason: "r"}))
		},
		"MigrationApprovals": func(ctx context.Context) error { return ignore(c.MigrationApprovals(ctx, mig)) },
		"ListAudit":          func(ctx context.Context) error { return ignore(c.ListAudit(ctx, api.AuditQuery{})) },
		"ExportAudit":        func(ctx context.Context) error { return ignore(c.ExportAudit(ctx, "csv", api.AuditQuery{})) },
		"VerifyAudit":        func(ctx context.Context) error { return ignore(c.VerifyAudit(ctx)) },
		"Login":              func(ctx context.Context) error { return ignore(c.Login(ctx, "u", "p")) },
		"CreateUser":         func(ctx context.Context) error { return ignore(c.CreateUser(ctx, api.CreateUserRequest{})) },
		"ListUsers":          func(ctx context.Context) error { return ignore(c.ListUsers(ctx)) },
		"DeleteUser":         func(ctx context.Context) error { return c.DeleteUser(ctx, "u") },
	}
}

var (
	specDB  = domain.DatabaseSpec{Name: "app"}
	specMig = domain.MigrationSpec{Name: "m"}
)
