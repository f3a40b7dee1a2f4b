package httpapi

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/hotswap-db/hotswap/internal/tracing"
)

// tracerName names the API's spans' instrumentation scope.
const tracerName = "github.com/hotswap-db/hotswap/controlplane/httpapi"

type traceKey struct{}

// traced gives each request a server span, a child of the caller's W3C
// traceparent when it sent one, and a trace id: the caller's X-Trace-Id,
// else the span's trace id. The id is echoed in X-Trace-Id and in errors;
// the span's own context is answered in traceparent.
func (a *API) traced(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := tracing.Propagator().Extract(r.Context(), tracing.HTTPCarrier(r.Header))
		tracer := a.tracer
		if untraced[r.URL.Path] {
			tracer = noopTracer // probes: a span each would drown the traces that matter
		}
		ctx, span := tracer.Start(ctx, r.Method+" "+r.URL.Path, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.path", r.URL.Path)))
		defer span.End()
		id := r.Header.Get("X-Trace-Id")
		if id == "" || len(id) > 64 {
			id = traceID(span.SpanContext())
		}
		w.Header().Set("X-Trace-Id", id)
		tracing.Propagator().Inject(ctx, tracing.HTTPCarrier(w.Header()))
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		r = r.WithContext(context.WithValue(ctx, traceKey{}, id))
		next.ServeHTTP(sw, r)
		endRequestSpan(span, r.Pattern, sw.status)
	})
}

// untraced are the paths probes and scrapers poll: they get no span.
var untraced = map[string]bool{"/health": true, "/metrics": true}

// noopTracer makes the spans of untraced paths; like every no-op span,
// they keep a caller's trace context.
var noopTracer = noop.NewTracerProvider().Tracer(tracerName)

// traceID is the W3C trace id of a span, or a random id when there is
// none (tracing off, no caller's traceparent).
func traceID(sc trace.SpanContext) string {
	if sc.HasTraceID() {
		return sc.TraceID().String()
	}
	return "trace-" + NewToken("")[:16]
}

// endRequestSpan names the span after the route that served it (known
// once the mux has routed the request) and records the status.
func endRequestSpan(span trace.Span, pattern string, status int) {
	if pattern != "" {
		span.SetName(pattern)
		span.SetAttributes(attribute.String("http.route", pattern))
	}
	span.SetAttributes(attribute.Int("http.response.status_code", status))
	if status >= 500 {
		span.SetStatus(codes.Error, http.StatusText(status))
	}
}

// statusWriter remembers the status of an answer for its span.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (event
// streams flush through it).
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// operations are the routes whose handling is a named operation of the
// reference, a span of its own inside the request's.
var operations = map[string]string{
	"POST /api/v1/migrations":               "migration.create",
	"POST /api/v1/migrations/{id}/validate": "migration.validate",
}

// operation wraps h in its operation's span, when the route has one.
func (a *API) operation(pattern string, h handlerFunc) handlerFunc {
	name, ok := operations[pattern]
	if !ok {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request, p principal) error {
		ctx, span := a.tracer.Start(r.Context(), name)
		defer span.End()
		if id := r.PathValue("id"); id != "" {
			span.SetAttributes(attribute.String("hotswap.migration.id", id))
		}
		err := h(w, r.WithContext(ctx), p)
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, toAPIError(err).message)
		}
		return err
	}
}
