package agent

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/hotswap-db/hotswap/internal/agentconfig"
	"github.com/hotswap-db/hotswap/internal/dialect"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/proto/agentpb"
)

const (
	leaderTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	leaderSpan  = "00f067aa0ba902b7"
)

func tracedAgent(t *testing.T) (*Agent, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	a := New(agentconfig.Config{}, hclog.NewNullLogger())
	a.UseTracing(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	return a, rec
}

func tracedStep() *agentpb.ExecuteStep {
	return &agentpb.ExecuteStep{ExecutionId: "e1", StepId: "s1", InstanceId: "nowhere", Kind: "apply", FencingToken: 1,
		TraceContext: map[string]string{"traceparent": "00-" + leaderTrace + "-" + leaderSpan + "-01"}}
}

// TestStepSpanJoinsTheLeadersTrace: the agent's span of a step is a child
// of the span the step carries, and says how the step ended.
func TestStepSpanJoinsTheLeadersTrace(t *testing.T) {
	a, rec := tracedAgent(t)
	m := tracedStep()
	key := stepID("e1", "s1")
	a.steps.running[key] = func() {}
	a.runStep(context.Background(), key, m, nil) // no such instance: the step fails
	spans := rec.Ended()
	if len(spans) != 1 || spans[0].Name() != spanStep {
		t.Fatalf("spans = %v, want one %s", spans, spanStep)
	}
	s := spans[0]
	if s.Parent().SpanID().String() != leaderSpan || s.SpanContext().TraceID().String() != leaderTrace {
		t.Errorf("parent %s trace %s, want the leader's span and trace", s.Parent().SpanID(), s.SpanContext().TraceID())
	}
	if s.Status().Code != codes.Error {
		t.Errorf("status = %v, want an error: the instance does not exist", s.Status())
	}
}

// TestStatementSpansAndRetryEvents: a completed statement becomes a span
// of its own time inside the step's; a warning becomes an event of the step.
func TestStatementSpansAndRetryEvents(t *testing.T) {
	a, rec := tracedAgent(t)
	ctx, step := a.startStepSpan(context.Background(), tracedStep())
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a.traceEvent(ctx, dialect.StepEvent{Time: start, Level: "warn", Message: "lock timeout on attempt 1 after 500ms; retrying"})
	a.traceEvent(ctx, dialect.StepEvent{Time: start.Add(time.Second), Level: "info", Message: "statement 1 done",
		Done: &domain.StatementResult{Index: 0, SQL: "ALTER TABLE t ADD COLUMN c int", StartedAt: start, DurationMs: 250, Attempts: 2}})
	a.traceEvent(ctx, dialect.StepEvent{Time: start, Level: "info", Message: "running 1 statement(s)"})
	step.End()

	spans := byName(rec.Ended())
	st, stepSpan := spans[spanStatement], spans[spanStep]
	if len(st) != 1 || len(stepSpan) != 1 {
		t.Fatalf("ended %d statement and %d step spans, want 1 each", len(st), len(stepSpan))
	}
	if st[0].Parent().SpanID() != stepSpan[0].SpanContext().SpanID() {
		t.Errorf("statement span's parent is not the step's")
	}
	if !st[0].StartTime().Equal(start) || st[0].EndTime().Sub(st[0].StartTime()) != 250*time.Millisecond {
		t.Errorf("statement span %s..%s, want from %s for 250ms", st[0].StartTime(), st[0].EndTime(), start)
	}
	events := stepSpan[0].Events()
	if len(events) != 1 || events[0].Name != "lock timeout on attempt 1 after 500ms; retrying" {
		t.Errorf("step events = %v, want the warning only", events)
	}
}

func byName(spans []sdktrace.ReadOnlySpan) map[string][]sdktrace.ReadOnlySpan {
	out := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		out[s.Name()] = append(out[s.Name()], s)
	}
	return out
}
