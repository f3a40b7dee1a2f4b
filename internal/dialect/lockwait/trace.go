package lockwait

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// spanAttempt is the span of one attempt at the statements under a lock
// timeout.
const spanAttempt = "lock.attempt"

// traced runs attempt n inside a span of its own, a child of the span ctx
// carries (the agent's step); when ctx carries none, the span is a no-op.
// A lock timeout marks the span, so a trace shows each retry and how
// long each wait in the queue lasted.
func (p *Policy) traced(ctx context.Context, n int, attempt func(ctx context.Context, n int) error) error {
	tracer := trace.SpanFromContext(ctx).TracerProvider().Tracer("github.com/hotswap-db/hotswap/internal/dialect/lockwait")
	ctx, span := tracer.Start(ctx, spanAttempt, trace.WithAttributes(attribute.Int("hotswap.lock.attempt", n),
		attribute.Int64("hotswap.lock.timeout_ms", p.LockTimeout.Milliseconds())))
	defer span.End()
	err := attempt(ctx, n)
	switch {
	case err == nil:
	case p.Session.IsLockTimeout(err):
		span.SetAttributes(attribute.Bool("hotswap.lock.timed_out", true))
		span.SetStatus(codes.Error, "lock timeout")
	default:
		span.SetStatus(codes.Error, "statement failed")
	}
	return err
}
