package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/hotswap-db/hotswap/controlplane/httpapi"
	"github.com/hotswap-db/hotswap/internal/api"
)

const (
	callerTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	callerSpanID  = "00f067aa0ba902b7"
)

// tracedGet sends a GET with the caller's traceparent.
func tracedGet(t *testing.T, base, path string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("traceparent", "00-"+callerTraceID+"-"+callerSpanID+"-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestRequestSpanJoinsTheCallersTrace(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	a := httpapi.New(httpapi.Config{Raft: newLocalRaft(), Logger: hclog.NewNullLogger(),
		Tracing: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))})
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)

	resp := tracedGet(t, srv.URL, "/api/v1/migrations/mig-x")
	if got := resp.Header.Get("X-Trace-Id"); got != callerTraceID {
		t.Errorf("X-Trace-Id = %q, want the caller's trace id", got)
	}
	var body api.ErrorBody
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Error.TraceID != callerTraceID {
		t.Errorf("error body trace id = %q (%v), want the caller's", body.Error.TraceID, err)
	}
	tracedGet(t, srv.URL, "/health")

	spans := rec.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans ended, want 1 (none for /health)", len(spans))
	}
	s := spans[0]
	if s.Name() != "GET /api/v1/migrations/{id}" || s.SpanKind() != trace.SpanKindServer {
		t.Errorf("span = %q kind %s, want the route's server span", s.Name(), s.SpanKind())
	}
	if s.Parent().SpanID().String() != callerSpanID || s.SpanContext().TraceID().String() != callerTraceID {
		t.Errorf("span parent %s trace %s, want the caller's", s.Parent().SpanID(), s.SpanContext().TraceID())
	}
	want := "00-" + callerTraceID + "-" + s.SpanContext().SpanID().String() + "-01"
	if got := resp.Header.Get("traceparent"); got != want {
		t.Errorf("answered traceparent = %q, want %q", got, want)
	}
}

func TestTraceIDWithoutTracing(t *testing.T) {
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Raft: newLocalRaft(), Logger: hclog.NewNullLogger()}).Handler())
	t.Cleanup(srv.Close)
	if got := tracedGet(t, srv.URL, "/api/v1/migrations/mig-x").Header.Get("X-Trace-Id"); got != callerTraceID {
		t.Errorf("X-Trace-Id = %q, want the caller's trace id even with tracing off", got)
	}
	resp, err := http.Get(srv.URL + "/api/v1/migrations/mig-x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Trace-Id"); !strings.HasPrefix(got, "trace-") {
		t.Errorf("X-Trace-Id = %q without a caller's trace, want a generated id", got)
	}
}
