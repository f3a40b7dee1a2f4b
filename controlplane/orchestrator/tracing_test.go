package orchestrator

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/tracing"
	"github.com/hotswap-db/hotswap/proto/agentpb"
)

// callerTrace is the trace context of the request that asked for the
// execution in these tests.
const callerTrace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// TestExecutionSpans follows one execution through a monitor window, a
// failed step and its rollback, and checks the spans it leaves: all in
// the caller's trace, each step's span the parent the agent is told of.
func TestExecutionSpans(t *testing.T) {
	b := newBed(t)
	rec := tracetest.NewSpanRecorder()
	b.o = New(Config{Raft: b.raft, Dispatcher: b.disp, Logger: hclog.NewNullLogger(), Clock: b.clock.Now, Tick: 5 * time.Millisecond,
		Tracing: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))})
	const checks = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" // the migration's creation
	b.must(fsm.CreateMigrationRequest{Migration: domain.Migration{MigrationID: "mig-t", Name: "add_traced_column", TargetDatabaseID: "db-1",
		MigrationScript: "ALTER TABLE t ADD COLUMN c int;", RollbackScript: "ALTER TABLE t DROP COLUMN c;",
		TraceContext: map[string]string{"traceparent": checks}}})
	e := domain.Execution{ExecutionID: "exec-1", MigrationID: "mig-t", DatabaseID: "db-1", Strategy: domain.Phased,
		Status: domain.ExecutionPending, InitiatedBy: "alice", TimeoutSeconds: 600, LockTimeoutMs: 500,
		CreatedAt: b.clock.Now(), Decisions: []domain.Decision{}, TraceContext: map[string]string{"traceparent": callerTrace},
		Monitoring: domain.MonitorSettings{MonitorWindowSeconds: 10}}
	for i, p := range []string{"s1", "s2"} {
		e.Steps = append(e.Steps, domain.Step{StepID: p, Kind: domain.StepApply, PhaseIndex: i, Phase: p,
			Direction: domain.Forward, Agent: "a1", InstanceID: "pg-1", Status: domain.StepPending})
		e.Phases = append(e.Phases, domain.PhaseView{Index: i, Name: p})
	}
	b.must(fsm.CreateExecutionRequest{Execution: e})

	b.reconcile()
	b.report(b.o, succeeded("exec-1", "s1", 1))
	b.reconcile() // in s1's monitor window
	b.clock.Advance(11 * time.Second)
	b.reconcile() // window over: s2
	b.report(b.o, &agentpb.StepResult{ExecutionId: "exec-1", StepId: "s2", Attempt: 1, Transactional: true,
		Error: &agentpb.DBError{Message: "column exists"}})
	for i := 0; i < 5 && len(b.disp.executes()) < 3; i++ {
		b.reconcile()
	}
	sent := b.disp.executes()
	if len(sent) != 3 {
		t.Fatalf("sent %d steps, want s1, s2 and s1's rollback", len(sent))
	}
	b.report(b.o, succeeded("exec-1", sent[2].GetStepId(), sent[2].GetAttempt()))
	for i := 0; i < 5 && !b.execution("exec-1").Status.Terminal(); i++ {
		b.reconcile()
	}
	b.reconcile() // the ended execution's spans close
	if st := b.execution("exec-1").Status; st != domain.ExecutionRolledBack {
		t.Fatalf("execution = %s, want RolledBack", st)
	}

	spans := byName(rec.Ended())
	exec := one(t, spans, spanExecute)
	if got := exec.Parent().SpanID().String(); got != "00f067aa0ba902b7" || exec.SpanContext().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Fatalf("execution span: parent %s trace %s, want the caller's span and trace", got, exec.SpanContext().TraceID())
	}
	if l := exec.Links(); len(l) != 1 || l[0].SpanContext.SpanID().String() != "b7ad6b7169203331" {
		t.Errorf("execution span links = %v, want the migration's checks", l)
	}
	rollback := one(t, spans, spanRollback)
	wantParent(t, rollback, exec)
	wantParent(t, one(t, spans, spanMonitor), exec)
	steps := spans[spanStep]
	if len(steps) != 3 {
		t.Fatalf("%d step spans, want 3", len(steps))
	}
	for i, m := range sent {
		sc := trace.SpanContextFromContext(tracing.Extract(context.Background(), m.GetTraceContext()))
		s := spanWithID(t, steps, sc.SpanID())
		want := exec
		if i == 2 {
			want = rollback
		}
		wantParent(t, s, want)
	}
}

func byName(spans []sdktrace.ReadOnlySpan) map[string][]sdktrace.ReadOnlySpan {
	out := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		out[s.Name()] = append(out[s.Name()], s)
	}
	return out
}

func one(t *testing.T, spans map[string][]sdktrace.ReadOnlySpan, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	if len(spans[name]) != 1 {
		t.Fatalf("%d %s spans ended, want 1", len(spans[name]), name)
	}
	return spans[name][0]
}

func spanWithID(t *testing.T, spans []sdktrace.ReadOnlySpan, id trace.SpanID) sdktrace.ReadOnlySpan {
	t.Helper()
	for _, s := range spans {
		if s.SpanContext().SpanID() == id {
			return s
		}
	}
	t.Fatalf("no step span %s: the step's trace context names a span that never ended", id)
	return nil
}

func wantParent(t *testing.T, s, parent sdktrace.ReadOnlySpan) {
	t.Helper()
	if s.Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("%s span's parent = %s, want %s %s", s.Name(), s.Parent().SpanID(), parent.Name(), parent.SpanContext().SpanID())
	}
}
