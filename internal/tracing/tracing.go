// Package tracing sets up OpenTelemetry tracing for hotswapd and
// hotswap-agent: an OTLP exporter (gRPC) when an endpoint is configured, a
// no-op provider otherwise, and the W3C trace context carried between the
// programs. The provider is built here and passed to whoever makes spans;
// nothing is registered globally.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// EndpointEnv and TracesEndpointEnv are the standard variables naming an
// OTLP endpoint; either one turns tracing on when no endpoint is configured.
const (
	EndpointEnv       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	TracesEndpointEnv = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
)

// Config says where spans go and how many are kept.
type Config struct {
	// Endpoint is the OTLP/gRPC collector: host:port (TLS unless Insecure)
	// or a URL (http:// is plaintext, https:// TLS). Empty: the standard
	// environment variables decide, and without them tracing is off.
	Endpoint string
	// Insecure dials a host:port endpoint without TLS.
	Insecure bool
	// SampleRatio is the share (0..1) of new traces kept (1: all); a span
	// whose parent came from elsewhere follows the parent's decision.
	SampleRatio float64
	// ServiceName and ServiceVersion describe the program in every span.
	ServiceName    string
	ServiceVersion string
	// Getenv reads the environment (os.Getenv); nil reads nothing.
	Getenv func(string) string
}

// Provider makes the spans of one program.
type Provider struct {
	trace.TracerProvider
	shutdown func(context.Context) error
}

// Enabled reports whether cfg sends spans anywhere.
func (c Config) Enabled() bool {
	if c.Endpoint != "" {
		return true
	}
	if c.Getenv == nil {
		return false
	}
	return c.Getenv(EndpointEnv) != "" || c.Getenv(TracesEndpointEnv) != ""
}

// ErrBadRatio is a sample ratio outside 0..1.
var ErrBadRatio = errors.New("tracing: the sample ratio must be from 0 to 1")

// New returns the provider cfg asks for: a no-op one when tracing is off.
// The exporter connects lazily, so a collector that is down costs spans,
// never the program's start.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	if cfg.SampleRatio < 0 || cfg.SampleRatio > 1 {
		return nil, fmt.Errorf("%w (got %g)", ErrBadRatio, cfg.SampleRatio)
	}
	if !cfg.Enabled() {
		return Noop(), nil
	}
	exp, err := otlptracegrpc.New(ctx, exporterOptions(cfg)...)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	res := resource.NewSchemaless(semconv.ServiceName(cfg.ServiceName), semconv.ServiceVersion(cfg.ServiceVersion))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SampleRatio))))
	return &Provider{TracerProvider: tp, shutdown: tp.Shutdown}, nil
}

// exporterOptions turns the endpoint into exporter options; without one
// the exporter reads the standard environment variables itself.
func exporterOptions(cfg Config) []otlptracegrpc.Option {
	switch {
	case cfg.Endpoint == "":
		return nil
	case strings.Contains(cfg.Endpoint, "://"):
		return []otlptracegrpc.Option{otlptracegrpc.WithEndpointURL(cfg.Endpoint)}
	case cfg.Insecure:
		return []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(cfg.Endpoint), otlptracegrpc.WithInsecure()}
	}
	return []otlptracegrpc.Option{otlptracegrpc.WithEndpoint(cfg.Endpoint)}
}

// Noop is the provider of a program that traces nothing. Spans started
// from it still carry a remote parent's context, so the trace id a caller
// sent is kept and passed on.
func Noop() *Provider {
	return &Provider{TracerProvider: noop.NewTracerProvider(), shutdown: func(context.Context) error { return nil }}
}

// Shutdown sends the spans still buffered and stops the exporter.
func (p *Provider) Shutdown(ctx context.Context) error {
	if err := p.shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: shutdown: %w", err)
	}
	return nil
}

// OrNoop returns tp, or a no-op provider when tp is nil, so a package can
// take an optional provider in its config.
func OrNoop(tp trace.TracerProvider) trace.TracerProvider {
	if tp == nil {
		return noop.NewTracerProvider()
	}
	return tp
}

// propagator is the W3C trace context (traceparent, tracestate); it has
// no state.
var propagator = propagation.TraceContext{}

// Inject returns the trace context of ctx's span as W3C headers
// (traceparent, tracestate); nil when ctx carries no span.
func Inject(ctx context.Context) map[string]string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return nil
	}
	carrier := propagation.MapCarrier{}
	propagator.Inject(ctx, carrier)
	return carrier
}

// Extract returns ctx with the remote span named by W3C headers as its
// parent; ctx unchanged when they name none.
func Extract(ctx context.Context, headers map[string]string) context.Context {
	if len(headers) == 0 {
		return ctx
	}
	return propagator.Extract(ctx, propagation.MapCarrier(headers))
}

// HTTPCarrier is the carrier for HTTP headers.
type HTTPCarrier = propagation.HeaderCarrier

// Propagator is the W3C trace context propagator, for HTTP headers.
func Propagator() propagation.TextMapPropagator { return propagator }
