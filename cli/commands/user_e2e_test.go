package commands

import (
	"path/filepath"
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

	r = runCLI(t, "wrong\n", "--address", hotswapd.addr, "login", "vera@example.com", "--password-stdin")
	if r.code != ExitError {
		t.Errorf("login with a wrong password: exit %d, want %d", r.code, ExitError)
	}
	mustHS(t, "user", "delete", "vera@example.com")
	if r := asVera("database", "list"); r.code != ExitError {
		t.Errorf("database list with a deleted user's token: exit %d, want %d", r.code, ExitError)
	}
}
