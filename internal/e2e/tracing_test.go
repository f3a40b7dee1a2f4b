package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// collector is an OTLP/gRPC trace receiver in the test: it keeps every
// span hotswapd and the agent export.
type collector struct {
	coltracepb.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans []gotSpan
}

// gotSpan is one exported span, its ids in hex.
type gotSpan struct {
	Service, Name           string
	TraceID, SpanID, Parent string
	Links                   []string // the span ids it links to
}

func (c *collector) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				service = kv.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				got := gotSpan{Service: service, Name: s.GetName(), TraceID: hex.EncodeToString(s.GetTraceId()),
					SpanID: hex.EncodeToString(s.GetSpanId()), Parent: hex.EncodeToString(s.GetParentSpanId())}
				for _, l := range s.GetLinks() {
					got.Links = append(got.Links, hex.EncodeToString(l.GetSpanId()))
				}
				c.spans = append(c.spans, got)
			}
		}
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// inTrace returns the spans of one trace received so far.
func (c *collector) inTrace(traceID string) []gotSpan {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []gotSpan
	for _, s := range c.spans {
		if s.TraceID == traceID {
			out = append(out, s)
		}
	}
	return out
}

func (c *collector) all() []gotSpan {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]gotSpan(nil), c.spans...)
}

// startCollector serves a collector on a free loopback port.
func startCollector(t *testing.T) (*collector, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, c)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return c, lis.Addr().String()
}

// child finds the span named name, of service, whose parent is parent.
func child(spans []gotSpan, service, name, parent string) (gotSpan, bool) {
	for _, s := range spans {
		if s.Service == service && s.Name == name && s.Parent == parent {
			return s, true
		}
	}
	return gotSpan{}, false
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestTracingAcrossServerAndAgent runs one migration with tracing on and
// checks that one trace holds the HTTP request, the execution, its step,
// the agent's run of the step and its statement, each the child of the
// one before.
func TestTracingAcrossServerAndAgent(t *testing.T) {
	col, addr := startCollector(t)
	b := newBedWith(t, func(c *agentconfig.Config) {
		c.Tracing = agentconfig.TracingConfig{OTLPEndpoint: addr, Insecure: true}
	}, "--otlp-endpoint", addr, "--otlp-insecure")
	mig := b.migration("add_note", "ALTER TABLE accounts ADD COLUMN note text;", "ALTER TABLE accounts DROP COLUMN IF EXISTS note;")
	b.approveAsNeeded(mig)

	traceID, callerSpan := randomHex(t, 16), randomHex(t, 8)
	execID, echoed := executeTraced(t, b, mig, fmt.Sprintf("00-%s-%s-01", traceID, callerSpan))
	if echoed != traceID {
		t.Errorf("X-Trace-Id = %q, want the caller's W3C trace id %s", echoed, traceID)
	}
	if e := b.waitTerminal(mig, execID, time.Minute); e.Status != domain.ExecutionSucceeded {
		t.Fatalf("execution = %s: %s\n%s", e.Status, e.ErrorMessage, logText(e))
	}

	chain := []struct{ service, name string }{
		{"hotswapd", "POST /api/v1/migrations/{id}/execute"},
		{"hotswapd", "migration.execute"},
		{"hotswapd", "migration.step"},
		{"hotswap-agent", "agent.step"},
		{"hotswap-agent", "agent.statement"},
	}
	var missing string
	var found map[string]gotSpan
	eventuallyTold(t, time.Minute, "the trace's spans to reach the collector", func() bool {
		found, missing = followChain(col.inTrace(traceID), callerSpan, chain)
		return missing == ""
	}, func() string { return "missing " + missing + "\n" + dumpSpans(col.all()) })

	// The migration's creation (its parse, lint and risk checks) is a trace
	// of its own, which the execution's span links to.
	var created gotSpan
	eventuallyTold(t, 30*time.Second, "the migration.create span", func() bool {
		for _, s := range col.all() {
			if s.Name == "migration.create" && s.Service == "hotswapd" {
				if req, ok := child(col.inTrace(s.TraceID), "hotswapd", "POST /api/v1/migrations", ""); ok && s.Parent == req.SpanID {
					created = s
					return true
				}
			}
		}
		return false
	}, func() string { return dumpSpans(col.all()) })
	if links := found["migration.execute"].Links; len(links) != 1 || links[0] != created.SpanID {
		t.Errorf("migration.execute links to %v, want the migration.create span %s", links, created.SpanID)
	}
}

// followChain finds each span of chain as the child of the one before
// (the first a child of root), then a lock.attempt under agent.step. It
// returns the spans found by name, or what is missing.
func followChain(spans []gotSpan, root string, chain []struct{ service, name string }) (map[string]gotSpan, string) {
	found := map[string]gotSpan{}
	parent := root
	for _, want := range chain {
		s, ok := child(spans, want.service, want.name, parent)
		if !ok {
			return nil, fmt.Sprintf("%s span %q with parent %s", want.service, want.name, parent)
		}
		found[want.name], parent = s, s.SpanID
	}
	if _, ok := child(spans, "hotswap-agent", "lock.attempt", found["agent.step"].SpanID); !ok {
		return nil, "a lock.attempt span under agent.step " + found["agent.step"].SpanID
	}
	return found, ""
}

// executeTraced starts an execution sending traceparent and returns its id
// and the X-Trace-Id the server answered.
func executeTraced(t *testing.T, b *bed, mig, traceparent string) (string, string) {
	t.Helper()
	req, err := http.NewRequest("POST", b.srv.URL()+"/api/v1/migrations/"+mig+"/execute", bytes.NewReader([]byte(`{}`)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+b.api.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", traceparent)
	resp, err := b.srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct{ ExecutionID string }
	body := response{Status: resp.StatusCode}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	body.Body = buf.Bytes()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("execute = %d %s", resp.StatusCode, body.Body)
	}
	body.decode(t, &r)
	return r.ExecutionID, resp.Header.Get("X-Trace-Id")
}

func dumpSpans(spans []gotSpan) string {
	var sb strings.Builder
	for _, s := range spans {
		fmt.Fprintf(&sb, "%s %s trace=%s span=%s parent=%s\n", s.Service, s.Name, s.TraceID, s.SpanID, s.Parent)
	}
	return sb.String()
}

// eventuallyTold is eventually that says, when it times out, what diag
// tells.
func eventuallyTold(t *testing.T, timeout time.Duration, what string, cond func() bool, diag func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s\n%s", timeout, what, diag())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
