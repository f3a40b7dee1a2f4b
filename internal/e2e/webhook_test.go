package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	wire "github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// TestWebhookNotifiesApprovals: a hotswapd started with --webhook POSTs the
// submission and the approval of a migration to a local receiver, signed
// with the shared secret.
func TestWebhookNotifiesApprovals(t *testing.T) {
	const secret = "webhook-shared-secret-for-tests"
	var mu sync.Mutex
	var got []wire.WebhookEvent
	bad := 0
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		var ev wire.WebhookEvent
		if r.Header.Get(wire.SignatureHeader) != wire.SignWebhook([]byte(secret), body) || json.Unmarshal(body, &ev) != nil ||
			r.Header.Get(wire.EventHeader) != ev.Type {
			bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		got = append(got, ev)
	}))
	t.Cleanup(rcv.Close)
	secretFile := filepath.Join(t.TempDir(), "webhook-secret")
	if err := os.WriteFile(secretFile, []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	relay := testbed.StartSMTP(t, false)
	s := testbed.StartServer(t, bins, testbed.ServerOptions{Args: []string{"--webhook", rcv.URL, "--webhook-secret-file", secretFile,
		"--smtp-addr", relay.Addr(), "--smtp-from", "hotswap@example.com", "--smtp-to", "dba@example.com"}})
	tok := token(t, s)
	a := newAPI(t, s, tok, nil)
	eventually(t, 10*time.Second, "the server to lead", func() bool {
		return a.do("POST", "/api/v1/agents", map[string]string{"name": "host1"}).Status == http.StatusCreated
	})
	a.must(http.StatusCreated, "POST", "/api/v1/databases", map[string]any{
		"name": "orders", "type": "PostgreSQL", "environment": "Production",
		"instances": []map[string]string{{"agent": "host1", "instanceId": "main", "role": "Master"}},
	})
	cl := wire.New(s.URL(), tok)
	ctx := t.Context()
	m, err := cl.CreateMigration(ctx, domain.MigrationSpec{Name: "drop_legacy", TargetDatabaseID: "orders",
		MigrationScript: "ALTER TABLE users DROP COLUMN legacy;", RollbackScript: "ALTER TABLE users ADD COLUMN legacy text;"})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := cl.SubmitApproval(ctx, m.MigrationID, wire.SubmitApprovalRequest{Notes: "for the release"})
	if err != nil || sub.Status != "Pending" || sub.Required < 1 {
		t.Fatalf("submit = %+v, %v; want Pending, needing approvals", sub, err)
	}
	if _, err := cl.CreateUser(ctx, wire.CreateUserRequest{Username: "dora", Password: "dora's long passphrase", Role: domain.RoleDBA}); err != nil {
		t.Fatal(err)
	}
	login, err := cl.Login(ctx, "dora", "dora's long passphrase")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wire.New(s.URL(), login.Token).ApproveMigration(ctx, m.MigrationID, wire.ApproveRequest{Notes: "backed up"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "both events at the receiver", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) >= 2
	})
	eventually(t, 15*time.Second, "both mails at the relay", func() bool { return len(relay.Messages()) >= 2 })
	if mails := relay.Messages(); !strings.Contains(mails[0], "approval.submitted") || !strings.Contains(mails[1], "Subject: [HotSwap] approval.approved "+m.MigrationID) {
		t.Errorf("mails = %q, want the submission then the approval", mails)
	}
	mu.Lock()
	defer mu.Unlock()
	if bad != 0 {
		t.Errorf("%d deliveries were not signed with the shared secret", bad)
	}
	if got[0].Type != wire.EventApprovalSubmitted || got[0].Detail != "for the release" || got[0].MigrationID != m.MigrationID ||
		got[1].Type != wire.EventApprovalApproved || got[1].Actor != "dora" || got[1].Detail != "backed up" || got[1].DatabaseID != m.TargetDatabaseID {
		t.Errorf("received %+v, want the submission then dora's approval of %s", got, m.MigrationID)
	}
}
