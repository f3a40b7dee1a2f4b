package orchestrator

import (
	"context"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/tracing"
	"github.com/hotswap-db/hotswap/proto/agentpb"
)

// tracerName names the orchestrator's spans' instrumentation scope.
const tracerName = "github.com/hotswap-db/hotswap/controlplane/orchestrator"

// Span names of the orchestrator (the reference's operations).
const (
	spanExecute  = "migration.execute"
	spanRollback = "migration.rollback"
	spanMonitor  = "migration.monitor"
	spanStep     = "migration.step"
)

// spans are the open spans of the executions this leader drives: an
// execution's span (a child of the request that asked for it) from when
// this leader first drives it until it ends, and inside it one span per
// step attempt handed to an agent, the rollback and the monitor windows.
// A new leader opens new ones under the same request.
type spans struct {
	tracer trace.Tracer
	// checked is the trace context of a migration's checks (its
	// migration.create span), which its executions link to.
	checked func(migrationID string) map[string]string
	mu      sync.Mutex
	execs   map[string]*execSpans // by execution id
}

type execSpans struct {
	ctx          context.Context // carries the execution's span
	span         trace.Span
	rollbackCtx  context.Context
	rollback     trace.Span
	monitor      trace.Span
	monitorUntil time.Time
	steps        map[string]trace.Span // by stepAttempt
}

func newSpans(tp trace.TracerProvider, checked func(migrationID string) map[string]string) *spans {
	return &spans{tracer: tracing.OrNoop(tp).Tracer(tracerName), checked: checked, execs: map[string]*execSpans{}}
}

// checkedTrace is the trace context of a migration's checks.
func (o *Orchestrator) checkedTrace(migrationID string) map[string]string {
	m, err := o.cfg.Raft.State().Migration(migrationID)
	if err != nil {
		return nil
	}
	return m.TraceContext
}

// stepAttempt names one attempt of one step of one execution.
func stepAttempt(execID, stepID string, attempt int) string {
	return execID + "|" + stepID + "|" + strconv.Itoa(attempt)
}

// of returns the open spans of e, opening its execution span the first
// time. The caller holds sp.mu.
func (sp *spans) of(e domain.Execution) *execSpans {
	if x, ok := sp.execs[e.ExecutionID]; ok {
		return x
	}
	opts := []trace.SpanStartOption{trace.WithAttributes(executionAttrs(e)...)}
	if link := trace.LinkFromContext(tracing.Extract(context.Background(), sp.checked(e.MigrationID))); link.SpanContext.IsValid() {
		opts = append(opts, trace.WithLinks(link))
	}
	if !e.StartedAt.IsZero() {
		opts = append(opts, trace.WithTimestamp(e.StartedAt))
	}
	ctx, span := sp.tracer.Start(tracing.Extract(context.Background(), e.TraceContext), spanExecute, opts...)
	x := &execSpans{ctx: ctx, span: span, steps: map[string]trace.Span{}}
	sp.execs[e.ExecutionID] = x
	return x
}

func executionAttrs(e domain.Execution) []attribute.KeyValue {
	return []attribute.KeyValue{attribute.String("hotswap.execution.id", e.ExecutionID),
		attribute.String("hotswap.migration.id", e.MigrationID), attribute.String("hotswap.database.id", e.DatabaseID),
		attribute.String("hotswap.strategy", string(e.Strategy)), attribute.Bool("hotswap.dry_run", e.DryRun)}
}

// contextOf is the W3C trace context of e's span, for what it starts
// (a fleet's children).
func (sp *spans) contextOf(e domain.Execution) map[string]string {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return tracing.Inject(sp.of(e).ctx)
}

// step opens the span of a step attempt handed to its agent, once, and
// returns its trace context for the ExecuteStep message. A rollback step's
// span sits inside the execution's rollback span.
func (sp *spans) step(e domain.Execution, s domain.Step) map[string]string {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	x := sp.of(e)
	key := stepAttempt(e.ExecutionID, s.StepID, s.Attempt)
	if span, ok := x.steps[key]; ok {
		return tracing.Inject(trace.ContextWithSpan(context.Background(), span))
	}
	parent := x.ctx
	if s.Direction == domain.Rollback {
		parent = x.rollbackContext(sp.tracer, e)
	}
	ctx, span := sp.tracer.Start(parent, spanStep, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("hotswap.step.id", s.StepID), attribute.String("hotswap.step.kind", s.Kind),
		attribute.String("hotswap.step.direction", string(s.Direction)), attribute.String("hotswap.agent", s.Agent),
		attribute.String("hotswap.instance", s.InstanceID), attribute.Int("hotswap.step.attempt", s.Attempt)))
	x.steps[key] = span
	return tracing.Inject(ctx)
}

// rollbackContext opens the execution's rollback span the first time.
func (x *execSpans) rollbackContext(tr trace.Tracer, e domain.Execution) context.Context {
	if x.rollback == nil {
		x.rollbackCtx, x.rollback = tr.Start(x.ctx, spanRollback,
			trace.WithAttributes(attribute.String("hotswap.rollback.reason", e.RollbackReason)))
	}
	return x.rollbackCtx
}

// stepEnded closes a step attempt's span with how the agent said it ended.
func (sp *spans) stepEnded(r *agentpb.StepResult) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	x, ok := sp.execs[r.GetExecutionId()]
	if !ok {
		return
	}
	key := stepAttempt(r.GetExecutionId(), r.GetStepId(), int(r.GetAttempt()))
	span, ok := x.steps[key]
	if !ok {
		return
	}
	delete(x.steps, key)
	span.SetAttributes(attribute.Bool("hotswap.step.already_applied", r.GetAlreadyApplied()),
		attribute.Int("hotswap.step.retries", int(r.GetRetries())))
	switch {
	case r.GetError() != nil:
		span.SetStatus(codes.Error, r.GetError().GetMessage())
	case r.GetAgentError() != "":
		span.SetStatus(codes.Error, r.GetAgentError())
	case r.GetCancelled():
		span.SetStatus(codes.Error, "cancelled")
	}
	span.End()
}

// monitoring opens the span of the monitor window that ends at e's
// MonitorUntil, once; a later window closes the earlier one.
func (sp *spans) monitoring(e domain.Execution) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	x := sp.of(e)
	if x.monitor != nil && x.monitorUntil.Equal(e.MonitorUntil) {
		return
	}
	x.endMonitor()
	_, x.monitor = sp.tracer.Start(x.ctx, spanMonitor,
		trace.WithAttributes(attribute.String("hotswap.monitor.until", e.MonitorUntil.UTC().Format(time.RFC3339Nano))))
	x.monitorUntil = e.MonitorUntil
}

// monitorOver closes e's monitor window span, if one is open.
func (sp *spans) monitorOver(id string) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if x, ok := sp.execs[id]; ok {
		x.endMonitor()
	}
}

func (x *execSpans) endMonitor() {
	if x.monitor != nil {
		x.monitor.End()
		x.monitor = nil
	}
}

// ended closes every span of the executions not in live, with the final
// status each one has in state (status reads it).
func (sp *spans) ended(live map[string]bool, status func(id string) (domain.Execution, bool)) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	for id, x := range sp.execs {
		if live[id] {
			continue
		}
		delete(sp.execs, id)
		e, ok := status(id)
		x.end(e, ok)
	}
}

// dropAll closes every open span: leadership was lost, a new leader opens
// its own.
func (sp *spans) dropAll() {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	for id, x := range sp.execs {
		delete(sp.execs, id)
		x.end(domain.Execution{}, false)
	}
}

func (x *execSpans) end(e domain.Execution, known bool) {
	for _, s := range x.steps {
		s.End()
	}
	x.endMonitor()
	if x.rollback != nil {
		x.rollback.End()
	}
	if known {
		x.span.SetAttributes(attribute.String("hotswap.execution.status", string(e.Status)))
		if e.Status != domain.ExecutionSucceeded {
			x.span.SetStatus(codes.Error, string(e.Status)+": "+e.ErrorMessage)
		}
	}
	x.span.End()
}
