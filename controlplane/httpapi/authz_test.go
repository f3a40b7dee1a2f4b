package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/controlplane/httpapi"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// authRoutes are the patterns server.go registers behind route(): the ones
// the rule table must cover.
func authRoutes(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("server.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile(`a\.route\(mux, "([^"]+)"`).FindAllStringSubmatch(string(src), -1) {
		out = append(out, m[1])
	}
	if len(out) < 20 {
		t.Fatalf("found %d routes in server.go; the pattern no longer matches how routes are registered", len(out))
	}
	return out
}

func TestEveryRouteHasARule(t *testing.T) {
	routes := authRoutes(t)
	rules := httpapi.RulePatterns()
	for _, p := range routes {
		if !slices.Contains(rules, p) {
			t.Errorf("route %q has no authorization rule (controlplane/httpapi/authz.go): it is refused to everyone", p)
		}
	}
	for _, p := range rules {
		if !slices.Contains(routes, p) {
			t.Errorf("rule %q matches no registered route", p)
		}
	}
}

// loginAs creates a user of role and returns a client holding their login token.
func (h *harness) loginAs(t *testing.T, name string, role domain.Role) *api.Client {
	t.Helper()
	return api.New(h.srv.URL, h.loginToken(t, name, role))
}

// loginToken creates a user of role and returns their login token.
func (h *harness) loginToken(t *testing.T, name string, role domain.Role) string {
	t.Helper()
	ctx := context.Background()
	if _, err := h.client.CreateUser(ctx, api.CreateUserRequest{Username: name, Password: "secret-" + name, Role: role}); err != nil {
		t.Fatalf("CreateUser(%s) error = %v", name, err)
	}
	l, err := api.New(h.srv.URL, "").Login(ctx, name, "secret-"+name)
	if err != nil {
		t.Fatalf("Login(%s) error = %v", name, err)
	}
	if l.User.Role != role || l.Token == "" {
		t.Fatalf("Login(%s) = %+v, want role %s and a token", name, l, role)
	}
	return l.Token
}

// TestRoleMatrix sends every route of the rule table as each role, and
// checks the role is refused (403, in the error format) exactly where the
// table says so. Path values are made up: an allowed call gets past
// authorization and fails later (404, 400), never 401 or 403.
func TestRoleMatrix(t *testing.T) {
	h := newHarness(t)
	tokens := map[domain.Role]string{}
	for _, role := range domain.Roles {
		tokens[role] = h.loginToken(t, "user-"+strings.ToLower(string(role)), role)
	}
	fill := regexp.MustCompile(`\{[^}]+\}`)
	for _, pattern := range httpapi.RulePatterns() {
		switch pattern {
		case "POST /api/v1/authentication/login", "PUT /api/v1/cluster/servers/{id}":
			continue // public; TestLoginTokens and TestRegisterMember cover them
		}
		method, path, _ := strings.Cut(pattern, " ")
		path = fill.ReplaceAllString(path, "nosuch")
		for _, role := range domain.Roles {
			got := h.do(t, method, path, tokens[role], "{}")
			allowed := httpapi.RuleAllows(pattern, role)
			switch {
			case allowed && (got.status == http.StatusForbidden || got.status == http.StatusUnauthorized):
				t.Errorf("%s as %s = %d %s, want it allowed", pattern, role, got.status, got.body)
			case !allowed && got.status != http.StatusForbidden:
				t.Errorf("%s as %s = %d, want 403", pattern, role, got.status)
			case !allowed && got.errorBody(t).Code != api.CodeForbidden:
				t.Errorf("%s as %s: code %s, want %s", pattern, role, got.errorBody(t).Code, api.CodeForbidden)
			}
		}
	}
}

func TestLoginTokens(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	dba := h.loginAs(t, "dana@example.com", domain.RoleDBA)
	if _, err := dba.ListDatabases(ctx); err != nil {
		t.Fatalf("ListDatabases as DBA error = %v", err)
	}
	if _, err := dba.ListUsers(ctx); !errors.Is(err, api.ErrForbidden) {
		t.Errorf("ListUsers as DBA error = %v, want 403", err)
	}
	if err := h.client.DeleteUser(ctx, "dana@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := dba.ListDatabases(ctx); !errors.Is(err, api.ErrUnauthorized) {
		t.Errorf("a deleted user's token: error = %v, want 401", err)
	}

	viewer := h.loginAs(t, "vic", domain.RoleViewer)
	h.skew.Store(int64(httpapi.DefaultTokenTTL + time.Minute))
	_, err := viewer.ListDatabases(ctx)
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || !strings.Contains(ae.Message, "expired") {
		t.Errorf("an expired token: error = %v, want 401 saying it expired", err)
	}
	users, err := h.client.ListUsers(ctx)
	if err != nil || users.Total != 1 || users.Users[0].Username != "vic" || users.Users[0].CreatedBy != "admin" {
		t.Errorf("ListUsers() = %+v, %v; want vic, created by admin", users, err)
	}
	if strings.Contains(string(h.do(t, "GET", "/api/v1/users", adminToken, "").body), "$2") {
		t.Error("the user list shows a password hash")
	}
}

func TestFailedLoginsAreRateLimited(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.loginAs(t, "rita", domain.RoleDeveloper)
	anon := api.New(h.srv.URL, "")
	for i := 0; i < 5; i++ {
		if _, err := anon.Login(ctx, "rita", "wrong-password"); !errors.Is(err, api.ErrUnauthorized) {
			t.Fatalf("failed login %d: error = %v, want 401", i+1, err)
		}
	}
	if _, err := anon.Login(ctx, "rita", "secret-rita"); !errors.Is(err, api.ErrRateLimited) {
		t.Errorf("login after 5 failures: error = %v, want 429 even with the right password", err)
	}
	h.skew.Store(int64(16 * time.Minute))
	if _, err := anon.Login(ctx, "rita", "secret-rita"); err != nil {
		t.Errorf("login once the window passed: error = %v", err)
	}
}

func TestCreateUserValidates(t *testing.T) {
	h := newHarness(t)
	for name, body := range map[string]string{
		"short password": `{"username":"a","password":"short","role":"Admin"}`,
		"unknown role":   `{"username":"a","password":"long-enough","role":"Root"}`,
		"no username":    `{"password":"long-enough","role":"Viewer"}`,
	} {
		if got := h.do(t, "POST", "/api/v1/users", adminToken, body); got.status != http.StatusBadRequest {
			t.Errorf("%s: status %d %s, want 400", name, got.status, got.body)
		}
	}
	h.loginAs(t, "dup", domain.RoleViewer)
	if got := h.do(t, "POST", "/api/v1/users", adminToken, `{"username":"dup","password":"long-enough","role":"Viewer"}`); got.status != http.StatusConflict {
		t.Errorf("duplicate user: status %d, want 409", got.status)
	}
}

func TestDeveloperExecutesOnlyOnDevelopmentAndQA(t *testing.T) {
	h := newHarness(t)
	f := h.addDatabase(t) // Production
	m := h.addMigration(t, f, "add_col")
	dev := h.loginAs(t, "devon", domain.RoleDeveloper)
	_, err := dev.ExecuteMigration(context.Background(), m.MigrationID, api.ExecuteRequest{})
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusForbidden || !strings.Contains(ae.Message, "Production") {
		t.Errorf("Developer executing on Production: error = %v, want 403 naming Production", err)
	}
}
