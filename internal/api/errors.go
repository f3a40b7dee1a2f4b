package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// The API's error codes.
const (
	CodeValidation   = "VALIDATION_ERROR"
	CodeUnauthorized = "UNAUTHORIZED"
	CodeForbidden    = "FORBIDDEN"
	CodeNotFound     = "NOT_FOUND"
	CodeConflict     = "CONFLICT"
	CodeRateLimited  = "RATE_LIMIT_EXCEEDED"
	CodeUnavailable  = "UNAVAILABLE"
	CodeInternal     = "INTERNAL_ERROR"
	// CodePayloadTooLarge is a body over its route's size limit (413).
	CodePayloadTooLarge = "PAYLOAD_TOO_LARGE"
	// CodeUnsupportedMediaType is a body that is not sent as JSON (415).
	CodeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
)

// ErrorBody is the error format of every failed request.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong and where.
type ErrorDetail struct {
	Code      string              `json:"code"`
	Message   string              `json:"message"`
	Details   []domain.FieldError `json:"details,omitempty"`
	TraceID   string              `json:"traceId"`
	Timestamp time.Time           `json:"timestamp"`
}

// Sentinels an *Error matches with errors.Is, by HTTP status.
var (
	ErrValidation   = errors.New("api: request refused (400)")
	ErrUnauthorized = errors.New("api: unauthorized (401)")
	ErrForbidden    = errors.New("api: forbidden (403)")
	ErrNotFound     = errors.New("api: not found (404)")
	ErrConflict     = errors.New("api: conflict (409)")
	ErrRateLimited  = errors.New("api: too many requests (429)")
	ErrUnavailable  = errors.New("api: unavailable (503)")
)

// statusSentinels maps HTTP statuses to the sentinels above.
var statusSentinels = map[int]error{
	http.StatusBadRequest:         ErrValidation,
	http.StatusUnauthorized:       ErrUnauthorized,
	http.StatusForbidden:          ErrForbidden,
	http.StatusNotFound:           ErrNotFound,
	http.StatusConflict:           ErrConflict,
	http.StatusTooManyRequests:    ErrRateLimited,
	http.StatusServiceUnavailable: ErrUnavailable,
}

// Error is a request the API refused or failed, as the client got it: the
// HTTP status and the body of the API's error format.
type Error struct {
	Status    int
	Code      string
	Message   string
	Details   []domain.FieldError
	TraceID   string
	Timestamp time.Time
	// NotApplied: the server said (NotAppliedHeader) that it did not
	// apply the request, which may then be sent again.
	NotApplied bool
}

// Error is the message followed by each field detail on its own line; a
// server error (5xx) also names its trace id, to find it in the logs.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	if e.Message == "" {
		fmt.Fprintf(&b, "%d %s", e.Status, http.StatusText(e.Status))
	}
	if e.Status >= 500 && e.TraceID != "" {
		fmt.Fprintf(&b, " (trace %s)", e.TraceID)
	}
	for _, d := range e.Details {
		fmt.Fprintf(&b, "\n  %s: %s", d.Field, d.Message)
	}
	return b.String()
}

// Is matches the sentinel of the error's HTTP status, so callers can write
// errors.Is(err, api.ErrNotFound).
func (e *Error) Is(target error) bool {
	s, ok := statusSentinels[e.Status]
	return ok && s == target
}

// decodeError reads a failed answer. A body that is not in the API's
// format (a proxy's HTML page, say) still gives a readable error.
func decodeError(resp *http.Response, body []byte) *Error {
	e := &Error{Status: resp.StatusCode, TraceID: resp.Header.Get("X-Trace-Id"),
		NotApplied: resp.Header.Get(NotAppliedHeader) == "true"}
	var eb ErrorBody
	if err := json.Unmarshal(body, &eb); err == nil && eb.Error.Message != "" {
		e.Code, e.Message, e.Details = eb.Error.Code, eb.Error.Message, eb.Error.Details
		e.Timestamp = eb.Error.Timestamp
		if eb.Error.TraceID != "" {
			e.TraceID = eb.Error.TraceID
		}
		return e
	}
	e.Message = fmt.Sprintf("%s %s: %d %s", resp.Request.Method, resp.Request.URL.Path,
		resp.StatusCode, http.StatusText(resp.StatusCode))
	if snippet := strings.TrimSpace(string(body)); snippet != "" {
		e.Message += ": " + truncate(snippet, 200)
	}
	return e
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "..."
}
