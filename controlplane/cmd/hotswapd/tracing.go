package main

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/internal/tracing"
)

// tracingFlags turn on OpenTelemetry tracing (off unless an endpoint is
// given here or in OTEL_EXPORTER_OTLP_ENDPOINT).
func tracingFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "otlp-endpoint", EnvVars: []string{"HOTSWAPD_OTLP_ENDPOINT"},
			Usage: "send traces over OTLP/gRPC to this collector (host:port, or http(s)://host:port); default: OTEL_EXPORTER_OTLP_ENDPOINT, else no tracing"},
		&cli.BoolFlag{Name: "otlp-insecure", EnvVars: []string{"HOTSWAPD_OTLP_INSECURE"},
			Usage: "dial a host:port --otlp-endpoint without TLS"},
		&cli.Float64Flag{Name: "otlp-sample-ratio", Value: 1, EnvVars: []string{"HOTSWAPD_OTLP_SAMPLE_RATIO"},
			Usage: "share (0..1) of new traces kept; a request carrying a traceparent follows its caller's decision"},
	}
}

// tracingProvider builds the server's tracer provider from the flags.
func tracingProvider(ctx context.Context, c *cli.Context, getenv func(string) string) (*tracing.Provider, error) {
	return tracing.New(ctx, tracing.Config{Endpoint: c.String("otlp-endpoint"), Insecure: c.Bool("otlp-insecure"),
		SampleRatio: c.Float64("otlp-sample-ratio"), ServiceName: "hotswapd", ServiceVersion: version, Getenv: getenv})
}

// shutdownTracing sends the spans still buffered, waiting a few seconds
// at most for the collector.
func shutdownTracing(tp *tracing.Provider, logger hclog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tp.Shutdown(ctx); err != nil {
		logger.Warn("tracing", "error", err)
	}
}
