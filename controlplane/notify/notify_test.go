package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// receiver is a webhook endpoint that refuses the first delivery of each
// event with 500, and records the others with their signature checked.
type receiver struct {
	mu       sync.Mutex
	secret   []byte
	attempts map[string]int
	got      []api.WebhookEvent
	badSig   int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if req.Header.Get(api.SignatureHeader) != api.SignWebhook(r.secret, body) {
		r.badSig++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev api.WebhookEvent
	_ = json.Unmarshal(body, &ev)
	r.attempts[ev.ID]++
	if r.attempts[ev.ID] == 1 {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	r.got = append(r.got, ev)
}

func (r *receiver) events() []api.WebhookEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]api.WebhookEvent(nil), r.got...)
}

// committer applies commands to a real FSM, as the log would.
type committer struct {
	t     *testing.T
	f     *fsm.FSM
	index uint64
}

func (c *committer) apply(cmd fsm.Command, actor string) {
	c.t.Helper()
	if actor != "" {
		wrapped, err := fsm.Audited(cmd, actor, "DBA", "10.0.0.9", time.Now().UTC())
		if err != nil {
			c.t.Fatal(err)
		}
		cmd = wrapped
	}
	data, err := fsm.Encode(cmd)
	if err != nil {
		c.t.Fatal(err)
	}
	c.index++
	if res := c.f.Apply(&raft.Log{Index: c.index, Type: raft.LogCommand, Data: data, AppendedAt: time.Now()}); res != nil {
		c.t.Fatalf("apply %T: %v", cmd, res)
	}
}

// newMigration commits agent h, database orders on it and migration mig-1.
func newMigration(t *testing.T) *committer {
	c := &committer{t: t, f: fsm.New(nil)}
	c.apply(fsm.CreateAgentRequest{Agent: domain.Agent{Name: "h"}}, "")
	c.apply(fsm.CreateDatabaseRequest{Database: domain.Database{DatabaseID: "orders", Name: "orders", Type: domain.PostgreSQL,
		Environment: domain.Production, Instances: []domain.InstanceRef{{Agent: "h", InstanceID: "main", Role: domain.RoleMaster}}}}, "")
	c.apply(fsm.CreateMigrationRequest{Migration: domain.Migration{MigrationID: "mig-1", Name: "add_c", TargetDatabaseID: "orders",
		CreatedBy: "dev"}}, "dev")
	return c
}

// TestWebhookDeliversSignedEventsWithRetry: what is committed after the
// notifier starts reaches the receiver, signed, in order, despite each
// first attempt failing; what was committed before is not replayed.
func TestWebhookDeliversSignedEventsWithRetry(t *testing.T) {
	c := newMigration(t)
	c.apply(fsm.SubmitApprovalRequest{MigrationID: "mig-1", By: "dev", Notes: "old"}, "dev") // before the start: not sent

	rcv := &receiver{secret: []byte("s3cret"), attempts: map[string]int{}}
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	n := New(Config{Webhooks: []Webhook{{URL: srv.URL, Secret: rcv.secret}}, Poll: 10 * time.Millisecond,
		retry: retry{attempts: 3, first: 5 * time.Millisecond, timeout: time.Second}}, c.f.State())
	ctx, cancel := context.WithCancel(context.Background())
	wait := n.Start(ctx)
	t.Cleanup(func() { cancel(); wait() })

	c.apply(fsm.SubmitApprovalRequest{MigrationID: "mig-1", By: "dev", Notes: "before Friday"}, "dev")
	c.apply(fsm.DecideMigrationRequest{Approval: domain.Approval{ApprovalID: "a1", MigrationID: "mig-1", Approver: "dora",
		Decision: domain.Approved, Notes: "looks safe", At: time.Now()}}, "dora")
	c.apply(fsm.DecideMigrationRequest{Approval: domain.Approval{ApprovalID: "a2", MigrationID: "mig-1", Approver: "rex",
		Decision: domain.Rejected, Notes: "peak hours", At: time.Now()}}, "rex")

	deadline := time.Now().Add(10 * time.Second)
	for len(rcv.events()) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	got := rcv.events()
	want := []struct{ typ, actor, detail string }{{api.EventApprovalSubmitted, "dev", "before Friday"},
		{api.EventApprovalApproved, "dora", "looks safe"}, {api.EventApprovalRejected, "rex", "peak hours"}}
	if len(got) != len(want) {
		t.Fatalf("received %+v, want %d events", got, len(want))
	}
	for i, w := range want {
		if g := got[i]; g.Type != w.typ || g.Actor != w.actor || g.Detail != w.detail || g.MigrationID != "mig-1" || g.DatabaseID != "orders" {
			t.Errorf("event %d = %+v, want %s by %s saying %q on mig-1 of orders", i, g, w.typ, w.actor, w.detail)
		}
		if rcv.attempts[got[i].ID] != 2 {
			t.Errorf("event %s took %d attempts, want 2 (the first refused)", got[i].ID, rcv.attempts[got[i].ID])
		}
	}
	if rcv.badSig != 0 {
		t.Errorf("%d deliveries had a bad signature", rcv.badSig)
	}
}

// TestExpiredApprovals: an approval whose 7 days end within the scanned
// window is reported once, as expired.
func TestExpiredApprovals(t *testing.T) {
	c := newMigration(t)
	given := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	c.apply(fsm.DecideMigrationRequest{Approval: domain.Approval{ApprovalID: "a1", MigrationID: "mig-1", Approver: "dora",
		Decision: domain.Approved, At: given}}, "dora")
	expiry := given.Add(domain.ApprovalTTL)
	if got := expiredSince(c.f.State(), expiry.Add(-time.Minute), expiry.Add(-time.Second)); len(got) != 0 {
		t.Errorf("before it expires: %+v, want nothing", got)
	}
	got := expiredSince(c.f.State(), expiry.Add(-time.Second), expiry.Add(time.Minute))
	if len(got) != 1 || got[0].Type != api.EventApprovalExpired || got[0].Actor != "dora" || !got[0].At.Equal(expiry) {
		t.Errorf("when it expires: %+v, want dora's approval expired at %s", got, expiry)
	}
	if again := expiredSince(c.f.State(), expiry.Add(time.Minute), expiry.Add(2*time.Minute)); len(again) != 0 {
		t.Errorf("the next window: %+v, want nothing more", again)
	}
}

// fakeState holds one execution, for the rollback event.
type fakeState struct {
	State
	exec domain.Execution
}

func (f fakeState) Execution(string) (domain.Execution, error) { return f.exec, nil }

func TestRollbackEventSaysWhetherItWasAutomatic(t *testing.T) {
	for _, c := range []struct {
		by        string
		automatic bool
	}{{"hotswap (guard)", true}, {"hotswap (automatic)", true}, {"dora", false}} {
		st := fakeState{exec: domain.Execution{ExecutionID: "exec-1", MigrationID: "mig-1", DatabaseID: "orders",
			RollbackRequestedBy: c.by, RollbackReason: "p95 latency 3.1x baseline"}}
		got := eventsOf(st, domain.AuditEntry{Seq: 9, Action: "start_rollback", Target: "exec-1", Outcome: "ok", Actor: "system"})
		if len(got) != 1 || got[0].Type != api.EventExecutionRollback || got[0].Automatic != c.automatic ||
			got[0].Actor != c.by || got[0].Detail != "p95 latency 3.1x baseline" || got[0].ExecutionID != "exec-1" {
			t.Errorf("rollback requested by %q: %+v, want one execution.rollback, automatic=%v", c.by, got, c.automatic)
		}
	}
	refused := eventsOf(fakeState{}, domain.AuditEntry{Action: "start_rollback", Outcome: "refused: not running"})
	if len(refused) != 0 {
		t.Errorf("a refused command made events: %+v", refused)
	}
}
