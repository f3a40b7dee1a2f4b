package lockwait

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestEachAttemptIsASpan: every attempt is a span inside the caller's, and
// the one that hit the lock timeout says so.
func TestEachAttemptIsASpan(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	ctx, step := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)).Tracer("test").Start(t.Context(), "step")
	s := &fakeSession{}
	s.ended.Store(true) // the blocker is gone at once: retry without waiting
	p := &Policy{Session: s, LockTimeout: 20 * time.Millisecond, SessionNoun: "pid", TimeoutCode: "55P03"}
	_, err := p.Run(ctx, noHolders{}, func(_ context.Context, n int) error {
		if n == 1 {
			return errLockTimeout
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	step.End()
	var attempts []sdktrace.ReadOnlySpan
	for _, sp := range rec.Ended() {
		if sp.Name() == spanAttempt {
			attempts = append(attempts, sp)
		}
	}
	if len(attempts) != 2 {
		t.Fatalf("%d attempt spans, want 2", len(attempts))
	}
	for i, sp := range attempts {
		if sp.Parent().SpanID() != step.SpanContext().SpanID() {
			t.Errorf("attempt %d: parent is not the caller's span", i+1)
		}
	}
	if attempts[0].Status().Code != codes.Error || attempts[1].Status().Code == codes.Error {
		t.Errorf("statuses %v, %v: want the lock timeout marked, the success not", attempts[0].Status(), attempts[1].Status())
	}
}
