package agent

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/tracing"
	"github.com/hotswap-db/hotswap/proto/agentpb"
)

// tracerName names the agent's spans' instrumentation scope.
const tracerName = "github.com/hotswap-db/hotswap/agent"

// Span names of the agent.
const (
	spanStep      = "agent.step"
	spanStatement = "agent.statement"
)

// UseTracing makes the agent's spans with tp: one per step it runs, a
// child of the control plane's span the step carries, and inside it one
// per statement (and per lock attempt, made by the engine-neutral lock
// policy). Call it before Run.
func (a *Agent) UseTracing(tp trace.TracerProvider) {
	a.tracer = tracing.OrNoop(tp).Tracer(tracerName)
}

// startStepSpan opens the span of a step run under the trace context the
// step carries.
func (a *Agent) startStepSpan(ctx context.Context, m *agentpb.ExecuteStep) (context.Context, trace.Span) {
	ctx = tracing.Extract(ctx, m.GetTraceContext())
	return a.tracer.Start(ctx, spanStep, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(
		attribute.String("hotswap.execution.id", m.GetExecutionId()), attribute.String("hotswap.step.id", m.GetStepId()),
		attribute.String("hotswap.migration.id", m.GetMigrationId()), attribute.String("hotswap.instance", m.GetInstanceId()),
		attribute.String("hotswap.step.kind", m.GetKind()), attribute.String("hotswap.step.direction", m.GetDirection()),
		attribute.Int("hotswap.step.attempt", int(m.GetAttempt())), attribute.Bool("hotswap.dry_run", m.GetDryRun())))
}

// endStepSpan closes a step's span with the result it left.
func endStepSpan(span trace.Span, res *agentpb.StepResult) {
	span.SetAttributes(attribute.Bool("hotswap.step.already_applied", res.GetAlreadyApplied()),
		attribute.Int("hotswap.step.retries", int(res.GetRetries())))
	switch {
	case res.GetError() != nil:
		span.SetStatus(codes.Error, res.GetError().GetMessage())
	case res.GetAgentError() != "":
		span.SetStatus(codes.Error, res.GetAgentError())
	case res.GetBreach() != nil:
		span.SetStatus(codes.Error, "guard breach")
	case res.GetCancelled():
		span.SetStatus(codes.Error, "cancelled")
	}
	span.End()
}

// traceEvent records a step's event in its trace: a statement that
// completed becomes a span of its own, from its start to its end; a
// warning or an error (a lock timeout and its retry, a failure) becomes
// an event of the step's span.
func (a *Agent) traceEvent(ctx context.Context, ev dialect.StepEvent) {
	step := trace.SpanFromContext(ctx)
	if !step.IsRecording() {
		return
	}
	if d := ev.Done; d != nil {
		dur := time.Duration(d.DurationMs * float64(time.Millisecond))
		start := d.StartedAt
		if start.IsZero() {
			start = ev.Time.Add(-dur) // the event is sent as the statement ends
		}
		_, span := a.tracer.Start(ctx, spanStatement, trace.WithTimestamp(start), trace.WithAttributes(
			attribute.Int("hotswap.statement.index", d.Index), attribute.String("db.query.text", a.scrub(d.SQL)),
			attribute.Int64("db.response.returned_rows", d.RowsAffected), attribute.Int("hotswap.statement.attempts", d.Attempts)))
		span.End(trace.WithTimestamp(start.Add(dur)))
		return
	}
	if ev.Level == "warn" || ev.Level == "error" {
		step.AddEvent(a.scrub(ev.Message), trace.WithTimestamp(ev.Time), trace.WithAttributes(
			attribute.String("level", ev.Level), attribute.String("db.query.text", a.scrub(ev.Statement))))
	}
}
