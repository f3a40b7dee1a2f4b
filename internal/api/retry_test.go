package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// flaky answers 503 to the first fails requests (with the not-applied
// header when notApplied), then 200, and counts the requests.
func flaky(t *testing.T, fails int32, notApplied bool) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if n.Add(1) <= fails {
			if notApplied {
				w.Header().Set(NotAppliedHeader, "true")
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":{"code":"UNAVAILABLE","message":"no leader is known"}}`))
			return
		}
		_, _ = w.Write([]byte(`{"serverId":"s1"}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestUnavailableRetry(t *testing.T) {
	cases := []struct {
		name       string
		method     string
		notApplied bool
		budget     time.Duration
		wantCalls  int32
		wantErr    bool
	}{
		{"a read is retried", http.MethodGet, false, 10 * time.Second, 3, false},
		{"a write the server did not apply is retried", http.MethodPost, true, 10 * time.Second, 3, false},
		{"a write of unknown outcome is not", http.MethodPost, false, 10 * time.Second, 1, true},
		{"the budget bounds the retries", http.MethodGet, false, 300 * time.Millisecond, 2, true},
		{"no budget, no retry", http.MethodGet, false, 0, 1, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, n := flaky(t, 2, tc.notApplied)
			notes := 0
			c := New(srv.URL, "t", WithUnavailableRetry(tc.budget, func(error, time.Duration) { notes++ }))
			var out ClusterStatus
			err := c.Do(context.Background(), tc.method, "/api/v1/cluster", nil, &out)
			if got := n.Load(); got != tc.wantCalls || (err != nil) != tc.wantErr {
				t.Errorf("got %d requests, error %v; want %d, error %v", got, err, tc.wantCalls, tc.wantErr)
			}
			if err != nil && !errors.Is(err, ErrUnavailable) {
				t.Errorf("error %v, want ErrUnavailable", err)
			}
			if notes != int(n.Load())-1 {
				t.Errorf("%d retry notes for %d requests", notes, n.Load())
			}
		})
	}
}
