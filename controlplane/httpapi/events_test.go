package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/controlplane/httpapi"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// streamServer serves the harness's state through an API of its own whose
// answers are not buffered (the harness's description check reads each
// answer whole, which a stream never is).
func streamServer(t *testing.T, h *harness) (*httpapi.API, *httptest.Server) {
	t.Helper()
	a := httpapi.New(httpapi.Config{Raft: h.raft, Presence: h.presence, Logger: hclog.NewNullLogger(),
		History: h.history, Samples: samples{}, Catalog: h.catalog})
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(a.Close)
	return a, srv
}

// nextEvent waits for an event matching want, failing after a generous
// timeout (the stream answers within its coalescing delay).
func nextEvent(t *testing.T, events <-chan api.ExecutionEvent, ended <-chan error, what string, want func(api.ExecutionEvent) bool) api.ExecutionEvent {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("the stream ended before %s: %v", what, <-ended)
			}
			if want(ev) {
				return ev
			}
		case <-timeout:
			t.Fatalf("no event with %s", what)
		}
	}
}

// TestExecutionStream follows an execution through its stream: the state
// as it is, each change as it is applied, only the snapshots not sent yet,
// and the end of the stream when the server shuts down.
func TestExecutionStream(t *testing.T) {
	h := newHarness(t)
	m := h.addMigration(t, h.addDatabase(t), "c1")
	ctx := context.Background()
	started, err := h.client.ExecuteMigration(ctx, m.MigrationID, api.ExecuteRequest{})
	if err != nil {
		t.Fatalf("ExecuteMigration() error = %v", err)
	}
	a, srv := streamServer(t, h)
	const viewerToken = "hst_test-viewer-token"
	h.raft.must(t, fsm.CreateAPITokenRequest{Token: domain.APIToken{TokenID: "tok-v", Name: "watcher", Role: "Viewer"},
		Hash: httpapi.HashToken(viewerToken)})
	viewer := api.New(srv.URL, viewerToken)
	events := make(chan api.ExecutionEvent, 64)
	ended := make(chan error, 1)
	go func() {
		ended <- viewer.WatchExecution(ctx, m.MigrationID, started.ExecutionID, func(ev api.ExecutionEvent) error {
			events <- ev
			return nil
		})
		close(events)
	}()
	first := nextEvent(t, events, ended, "the execution as it is", func(ev api.ExecutionEvent) bool { return ev.Type == api.EventExecution })
	if first.Execution.ExecutionID != started.ExecutionID || first.Execution.Status != started.Status || first.ID == "" {
		t.Fatalf("first event = %+v, want execution %s %s with the applied index", first, started.ExecutionID, started.Status)
	}

	startExecution(t, h, started.ExecutionID)
	nextEvent(t, events, ended, "status Running", func(ev api.ExecutionEvent) bool {
		return ev.Type == api.EventExecution && ev.Execution.Status == domain.ExecutionRunning
	})

	at := time.Now().UTC().Truncate(time.Millisecond)
	snap := func(d time.Duration, latency float64) domain.Snapshot {
		return domain.Snapshot{Agent: agentName, Sample: domain.Sample{InstanceID: "main", At: at.Add(d), AvgLatencyMs: latency}}
	}
	h.raft.must(t, fsm.AppendSnapshotsRequest{ExecutionID: started.ExecutionID, Snapshots: []domain.Snapshot{snap(0, 1.5), snap(time.Second, 2.5)}})
	got := nextEvent(t, events, ended, "two snapshots", func(ev api.ExecutionEvent) bool { return ev.Type == api.EventMetrics && len(ev.Metrics.Snapshots) > 0 })
	if len(got.Metrics.Snapshots) != 2 || got.Metrics.Snapshots[1].AvgLatencyMs != 2.5 {
		t.Fatalf("metrics event = %+v, want the two snapshots", got.Metrics.Snapshots)
	}
	h.raft.must(t, fsm.AppendSnapshotsRequest{ExecutionID: started.ExecutionID, Snapshots: []domain.Snapshot{snap(2*time.Second, 9)}})
	got = nextEvent(t, events, ended, "the third snapshot", func(ev api.ExecutionEvent) bool { return ev.Type == api.EventMetrics && len(ev.Metrics.Snapshots) > 0 })
	if len(got.Metrics.Snapshots) != 1 || got.Metrics.Snapshots[0].AvgLatencyMs != 9 {
		t.Fatalf("metrics event = %+v, want only the snapshot not sent yet", got.Metrics.Snapshots)
	}

	a.Close()
	select {
	case err := <-ended:
		if err != nil {
			t.Errorf("WatchExecution() after the server closed = %v, want nil", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the stream did not end when the server shut down")
	}
}

func TestExecutionStreamRefusals(t *testing.T) {
	h := newHarness(t)
	m := h.addMigration(t, h.addDatabase(t), "c1")
	_, srv := streamServer(t, h)
	ctx := context.Background()
	noop := func(api.ExecutionEvent) error { return nil }
	var ae *api.Error
	if err := api.New(srv.URL, "").WatchExecution(ctx, m.MigrationID, "exec-1", noop); !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Errorf("without a token: error = %v, want 401", err)
	}
	if err := api.New(srv.URL, adminToken).WatchExecution(ctx, m.MigrationID, "exec-none", noop); !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		t.Errorf("an unknown execution: error = %v, want 404", err)
	}
}
