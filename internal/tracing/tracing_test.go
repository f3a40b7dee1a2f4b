package tracing

import (
	"context"
	"errors"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestEnabled(t *testing.T) {
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	for _, tc := range []struct {
		name string
		cfg  Config
		want bool
	}{
		{"nothing", Config{Getenv: env(nil)}, false},
		{"no environment reader", Config{}, false},
		{"endpoint", Config{Endpoint: "collector:4317"}, true},
		{"standard variable", Config{Getenv: env(map[string]string{EndpointEnv: "http://c:4317"})}, true},
		{"traces variable", Config{Getenv: env(map[string]string{TracesEndpointEnv: "http://c:4317"})}, true},
	} {
		if got := tc.cfg.Enabled(); got != tc.want {
			t.Errorf("%s: Enabled() = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNewRefusesABadRatio(t *testing.T) {
	for _, r := range []float64{-0.1, 1.5} {
		if _, err := New(context.Background(), Config{Endpoint: "127.0.0.1:4317", SampleRatio: r}); !errors.Is(err, ErrBadRatio) {
			t.Errorf("ratio %g: err = %v, want ErrBadRatio", r, err)
		}
	}
}

func TestNewEnabledAndOff(t *testing.T) {
	off, err := New(context.Background(), Config{SampleRatio: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, span := off.Tracer("t").Start(context.Background(), "x"); span.IsRecording() {
		t.Error("tracing off records spans")
	}
	// The exporter dials lazily: no collector is needed to build it.
	on, err := New(context.Background(), Config{Endpoint: "127.0.0.1:1", Insecure: true, SampleRatio: 1, ServiceName: "test"})
	if err != nil {
		t.Fatal(err)
	}
	_, span := on.Tracer("t").Start(context.Background(), "x")
	if !span.IsRecording() {
		t.Error("tracing on with ratio 1 does not record")
	}
	span.End()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // nothing to wait for: the collector does not exist
	_ = on.Shutdown(ctx)
}

func TestInjectExtractRoundTrip(t *testing.T) {
	ctx := Extract(context.Background(), map[string]string{"traceparent": traceparent})
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsRemote() || sc.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || !sc.IsSampled() {
		t.Fatalf("extracted %+v, want the remote sampled span", sc)
	}
	if got := Inject(ctx)["traceparent"]; got != traceparent {
		t.Errorf("injected %q, want %q", got, traceparent)
	}
	if got := Inject(context.Background()); got != nil {
		t.Errorf("Inject without a span = %v, want nil", got)
	}
	if Extract(context.Background(), nil) != context.Background() {
		t.Error("Extract of nothing changed the context")
	}
}

func TestNoopKeepsTheCallersTrace(t *testing.T) {
	parent := Extract(context.Background(), map[string]string{"traceparent": traceparent})
	ctx, span := Noop().Tracer("t").Start(parent, "x")
	defer span.End()
	if got := Inject(ctx)["traceparent"]; got != traceparent {
		t.Errorf("through a no-op span: %q, want the caller's %q", got, traceparent)
	}
}
