package agent

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestRetryWait(t *testing.T) {
	noLeader := fmt.Errorf("await welcome: %w", status.Error(codes.Unavailable, "agentlink: no leader known; retry"))
	refused := errors.New("dial: connection refused")
	b := newBackoff(250*time.Millisecond, 10*time.Second)
	if w := retryWait(refused, 1, 3, b); w != 0 {
		t.Errorf("first failure of three servers: wait %s, want 0 (try the others at once)", w)
	}
	if w := retryWait(refused, 2, 3, b); w != 0 {
		t.Errorf("second failure of three servers: wait %s, want 0", w)
	}
	for i := 0; i < 10; i++ { // a server electing is asked again soon, however long it takes
		if w := retryWait(noLeader, 3+i, 3, b); w < electionPause/2 || w > electionPause {
			t.Fatalf("server electing, failure %d: wait %s, want %s to %s", 3+i, w, electionPause/2, electionPause)
		}
	}
	if b.cur != 250*time.Millisecond {
		t.Errorf("waiting out an election grew the backoff to %s", b.cur)
	}
	first := retryWait(refused, 3, 3, b)
	if first > 250*time.Millisecond || b.cur != 500*time.Millisecond {
		t.Errorf("every server refused: wait %s (backoff now %s), want the backoff's first step", first, b.cur)
	}
	if w := retryWait(noLeader, electionTries+1, 3, b); w < 250*time.Millisecond {
		t.Errorf("an election past %d tries: wait %s, want the backoff", electionTries, w)
	}
	if !electing(noLeader) || electing(refused) || electing(status.Error(codes.Unavailable, "shutting down")) {
		t.Error("electing() misreads the server's answer")
	}
}
