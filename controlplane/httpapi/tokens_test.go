package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// status returns the HTTP status of an API error, 0 for nil, -1 for
// another error.
func status(err error) int {
	var ae *api.Error
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ae):
		return ae.Status
	}
	return -1
}

// TestPersonalTokens: a token acts as its owner with the owner's current
// role, lists only the owner's, and is refused once revoked, expired, or
// its owner deleted.
func TestPersonalTokens(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	dba := h.loginAs(t, "dora", domain.RoleDBA)
	viewer := h.loginAs(t, "vic", domain.RoleViewer)
	tok, err := dba.CreateToken(ctx, api.CreateTokenRequest{Name: "nightly", ExpiresIn: "2d"})
	if err != nil || !strings.HasPrefix(tok.Token, "hsp_") || tok.Owner != "dora" || tok.ExpiresAt.Sub(tok.CreatedAt) != 48*time.Hour {
		t.Fatalf("create = %+v, %v; want dora's token lasting 2 days", tok, err)
	}
	script := api.New(h.srv.URL, tok.Token)
	if _, err := script.ListAudit(ctx, api.AuditQuery{Limit: 1}); err != nil {
		t.Errorf("the token of a DBA cannot read the audit log: %v", err)
	}
	if _, err := script.CreateUser(ctx, api.CreateUserRequest{Username: "x", Password: "long enough password", Role: domain.RoleAdmin}); status(err) != http.StatusForbidden {
		t.Errorf("a DBA's token creating a user = %v, want 403", err)
	}
	if l, err := viewer.ListTokens(ctx); err != nil || len(l.Tokens) != 0 {
		t.Errorf("a viewer lists %+v, %v; want none of dora's tokens", l, err)
	}
	if err := viewer.RevokeToken(ctx, tok.TokenID); status(err) != http.StatusForbidden {
		t.Errorf("a viewer revoking dora's token = %v, want 403", err)
	}
	if l, err := h.client.ListTokens(ctx); err != nil || len(l.Tokens) < 2 {
		t.Errorf("an Admin lists %+v, %v; want every token", l, err)
	}

	h.skew.Store(int64(49 * time.Hour))
	if _, err := script.ListAudit(ctx, api.AuditQuery{}); status(err) != http.StatusUnauthorized || !strings.Contains(err.Error(), "expired") {
		t.Errorf("an expired token = %v, want 401 expired", err)
	}
	h.skew.Store(0)
	if err := dba.RevokeToken(ctx, tok.TokenID); err != nil {
		t.Fatalf("the owner revoking: %v", err)
	}
	if _, err := script.ListAudit(ctx, api.AuditQuery{}); status(err) != http.StatusUnauthorized || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("a revoked token = %v, want 401 revoked", err)
	}
	if err := dba.RevokeToken(ctx, tok.TokenID); status(err) != http.StatusConflict {
		t.Errorf("revoking twice = %v, want 409", err)
	}
	other, err := dba.CreateToken(ctx, api.CreateTokenRequest{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.client.DeleteUser(ctx, "dora"); err != nil {
		t.Fatal(err)
	}
	if _, err := api.New(h.srv.URL, other.Token).ListAudit(ctx, api.AuditQuery{}); status(err) != http.StatusUnauthorized {
		t.Errorf("the token of a deleted user = %v, want 401", err)
	}
}

// TestTokenBadInputs: each bad request is refused with 400 or 403 and
// creates nothing.
func TestTokenBadInputs(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	dba := h.loginAs(t, "dora", domain.RoleDBA)
	for _, req := range []api.CreateTokenRequest{{Name: ""}, {Name: "a b"}, {Name: "ok", ExpiresIn: "soon"},
		{Name: "ok", ExpiresIn: "400d"}, {Name: "ok", ExpiresIn: "1m"}, {Name: "ok", ExpiresIn: "-5d"}} {
		before := len(h.raft.State().APITokens(""))
		if _, err := dba.CreateToken(ctx, req); status(err) != http.StatusBadRequest {
			t.Errorf("create %+v = %v, want 400", req, err)
		}
		if after := len(h.raft.State().APITokens("")); after != before {
			t.Errorf("create %+v stored a token", req)
		}
	}
	if _, err := h.client.CreateToken(ctx, api.CreateTokenRequest{Name: "ci"}); status(err) != http.StatusForbidden {
		t.Errorf("a cluster token creating a personal token = %v, want 403 (log in as a user)", err)
	}
	if err := dba.RevokeToken(ctx, "tok-nosuch"); status(err) != http.StatusNotFound {
		t.Errorf("revoking an unknown token = %v, want 404", err)
	}
}

// TestBootstrapTokenRevocation: the bootstrap (cluster) token cannot be
// revoked while no Admin user exists, and is refused at once after.
func TestBootstrapTokenRevocation(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.loginAs(t, "dora", domain.RoleDBA)
	if err := h.client.RevokeToken(ctx, "tok-1"); status(err) != http.StatusConflict || !strings.Contains(err.Error(), "Admin user") {
		t.Fatalf("revoking the only way in = %v, want 409 asking for an Admin user first", err)
	}
	admin := h.loginAs(t, "ada", domain.RoleAdmin)
	if err := admin.RevokeToken(ctx, "tok-1"); err != nil {
		t.Fatalf("revoking the bootstrap token with an Admin user: %v", err)
	}
	if _, err := h.client.ListUsers(ctx); status(err) != http.StatusUnauthorized {
		t.Errorf("the revoked bootstrap token = %v, want 401", err)
	}
	l, err := admin.ListTokens(ctx)
	if err != nil || len(l.Tokens) != 1 || l.Tokens[0].RevokedBy != "ada" {
		t.Errorf("tokens after the revocation = %+v, %v; want the bootstrap token on record, revoked by ada", l, err)
	}
}
