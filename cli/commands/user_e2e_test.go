package commands

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// TestUsersLoginAndRoles creates a Viewer and a Developer, logs them in and
// checks what each may do, against a real hotswapd.
func TestUsersLoginAndRoles(t *testing.T) {
	r := runCLI(t, "viewer-password\n", "--address", hotswapd.addr, "--token", hotswapd.token,
		"user", "create", "vera@example.com", "--role", "Viewer", "--password-stdin")
	if r.code != ExitOK {
		t.Fatalf("user create: exit %d: %s", r.code, r.stderr)
	}
	wantContains(t, "user create", r.stdout, "vera@example.com", "Viewer")
	users := decode[api.UserList](t, mustHS(t, "-o", "json", "user", "list"))
	found := false
	for _, u := range users.Users {
		found = found || (u.Username == "vera@example.com" && u.Role == domain.RoleViewer)
	}
	if !found {
		t.Errorf("user list = %+v, want vera@example.com as Viewer", users)
	}

	tokenFile := filepath.Join(t.TempDir(), "token")
	r = runCLI(t, "viewer-password\n", "--address", hotswapd.addr, "login", "vera@example.com", "--password-stdin", "--save", tokenFile)
	if r.code != ExitOK {
		t.Fatalf("login: exit %d: %s", r.code, r.stderr)
	}
	wantContains(t, "login", r.stdout, "Viewer", "saved to")
	asVera := func(args ...string) result {
		return runCLI(t, "", append([]string{"--address", hotswapd.addr, "--token-file", tokenFile}, args...)...)
	}
	if r := asVera("database", "list"); r.code != ExitOK {
		t.Errorf("database list as Viewer: exit %d: %s", r.code, r.stderr)
	}
	r = asVera("agent", "token", "create", "vera-host")
	if r.code != ExitError {
		t.Errorf("agent token create as Viewer: exit %d, want %d", r.code, ExitError)
	}
	wantContains(t, "stderr", r.stderr, "may not call", "Viewer")

	// A personal token for scripts acts as vera, until she revokes it.
	scriptToken := filepath.Join(t.TempDir(), "script-token")
	r = asVera("token", "create", "reports", "--expires", "7d", "--save", scriptToken)
	if r.code != ExitOK {
		t.Fatalf("token create: exit %d: %s", r.code, r.stderr)
	}
	wantContains(t, "token create", r.stdout, "vera@example.com (Viewer)", "saved to")
	asScript := func(args ...string) result {
		return runCLI(t, "", append([]string{"--address", hotswapd.addr, "--token-file", scriptToken}, args...)...)
	}
	if r := asScript("database", "list"); r.code != ExitOK {
		t.Errorf("database list with vera's API token: exit %d: %s", r.code, r.stderr)
	}
	toks := decode[api.TokenList](t, asVera("-o", "json", "token", "list").stdout)
	if len(toks.Tokens) != 1 || toks.Tokens[0].Owner != "vera@example.com" {
		t.Fatalf("token list as vera = %+v, want her one token", toks)
	}
	wantContains(t, "token list", asVera("token", "list").stdout, "reports", "active")
	if r := asVera("token", "revoke", toks.Tokens[0].TokenID); r.code != ExitOK {
		t.Fatalf("token revoke: exit %d: %s", r.code, r.stderr)
	}
	if r := asScript("database", "list"); r.code != ExitError || !strings.Contains(r.stderr, "revoked") {
		t.Errorf("database list with a revoked token: exit %d, %s; want refused as revoked", r.code, r.stderr)
	}
	if r := hs(t, "token", "create", "ci"); r.code != ExitError || !strings.Contains(r.stderr, "log in as a user") {
		t.Errorf("token create with the bootstrap token: exit %d, %s; want told to log in", r.code, r.stderr)
	}

	r = runCLI(t, "wrong\n", "--address", hotswapd.addr, "login", "vera@example.com", "--password-stdin")
	if r.code != ExitError {
		t.Errorf("login with a wrong password: exit %d, want %d", r.code, ExitError)
	}
	mustHS(t, "user", "delete", "vera@example.com")
	if r := asVera("database", "list"); r.code != ExitError {
		t.Errorf("database list with a deleted user's token: exit %d, want %d", r.code, ExitError)
	}
}

// TestApprovalCommands: a High-risk migration on Staging needs one approval;
// execute is refused until a DBA approves it.
func TestApprovalCommands(t *testing.T) {
	registerDatabase(t, "appr-host", "appr_db") // Staging
	m := createMigration(t, "appr_db", "risky_c", "CREATE TABLE risky (id int);", "--risk", "High")
	if !m.RequiresApproval {
		t.Fatalf("High on Staging: requiresApproval = false, want true")
	}
	r := hs(t, "migration", "execute", m.MigrationID)
	if r.code != ExitError {
		t.Fatalf("execute before approval: exit %d, want %d", r.code, ExitError)
	}
	wantContains(t, "stderr", r.stderr, "needs approval", "0 of 1 approvals")

	r = runCLI(t, "dba-password\n", "--address", hotswapd.addr, "--token", hotswapd.token,
		"user", "create", "dora", "--role", "DBA", "--password-stdin")
	if r.code != ExitOK {
		t.Fatalf("user create: %s", r.stderr)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if r := runCLI(t, "dba-password\n", "--address", hotswapd.addr, "login", "dora", "--password-stdin", "--save", tokenFile); r.code != ExitOK {
		t.Fatalf("login: %s", r.stderr)
	}
	asDora := func(args ...string) result {
		return runCLI(t, "", append([]string{"--address", hotswapd.addr, "--token-file", tokenFile}, args...)...)
	}
	wantContains(t, "submit", mustHS(t, "migration", "submit", m.MigrationID, "--notes", "for Friday"), "submitted for approval: Pending", "0 of 1")
	if r := hs(t, "migration", "approve", m.MigrationID); r.code != ExitError || !strings.Contains(r.stderr, "cannot approve") {
		t.Errorf("the author approving: exit %d %q, want refused", r.code, r.stderr)
	}
	r = asDora("migration", "approve", m.MigrationID, "--notes", "small table")
	if r.code != ExitOK {
		t.Fatalf("approve as DBA: exit %d: %s", r.code, r.stderr)
	}
	wantContains(t, "approve", r.stdout, "Approved by dora", "1 of 1")
	wantContains(t, "approvals", mustHS(t, "migration", "approvals", m.MigrationID), "dora", "small table", "may run")
	mustHS(t, "migration", "execute", m.MigrationID)
}

// TestAuditCommands reads the audit log of what the other tests did.
func TestAuditCommands(t *testing.T) {
	mustHS(t, "agent", "token", "create", "audit-host")
	out := mustHS(t, "audit", "list", "--target", "audit-host")
	wantContains(t, "audit list", out, "create_agent", "bootstrap-admin", "ok")
	csv := mustHS(t, "audit", "export", "--format", "csv", "--action", "create_agent")
	wantContains(t, "audit export", csv, "seq,index,at,actor", "audit-host")
	wantContains(t, "audit verify", mustHS(t, "audit", "verify"), "Audit log intact")
}
