package notify

import (
	"context"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// TestMailIsRetriedAndSaysWhatHappened sends one event through a relay
// that first answers 451: the mail arrives on the retry, with the event in
// its subject and body.
func TestMailIsRetriedAndSaysWhatHappened(t *testing.T) {
	srv := testbed.StartSMTP(t, true)
	m := &Mail{Addr: srv.Addr(), From: "hotswap@example.com", To: []string{"dba@example.com", "lead@example.com"}}
	ev := api.WebhookEvent{ID: "evt-7", Type: api.EventExecutionRollback, At: time.Now(), Actor: "hotswap (guard)",
		MigrationID: "mig-1", ExecutionID: "exec-9", Automatic: true, Detail: "p95 latency 3.1x baseline"}
	if err := m.send(context.Background(), ev, retry{attempts: 3, first: 10 * time.Millisecond, timeout: time.Second}); err != nil {
		t.Fatalf("send: %v", err)
	}
	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("the relay received %d messages, want 1", len(got))
	}
	for _, want := range []string{"Subject: [HotSwap] execution.rollback exec-9", "To: dba@example.com, lead@example.com",
		"p95 latency 3.1x baseline", "decided this rollback itself"} {
		if !strings.Contains(got[0], want) {
			t.Errorf("the mail lacks %q:\n%s", want, got[0])
		}
	}
}

// TestMailPermanentRefusalIsNotRetried: a 5xx answer ends the delivery.
func TestMailPermanentRefusalIsNotRetried(t *testing.T) {
	if !permanent(&textproto.Error{Code: 550, Msg: "no such user"}) || permanent(&textproto.Error{Code: 451, Msg: "later"}) {
		t.Error("permanent() misreads SMTP codes")
	}
}
