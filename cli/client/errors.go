package client

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
	CodeUnavailable  = "UNAVAILABLE"
	CodeInternal     = "INTERNAL_ERROR"
)

// Sentinels an *APIError matches with errors.Is, by HTTP status.
var (
	ErrValidation   = errors.New("client: request refused (400)")
	ErrUnauthorized = errors.New("client: unauthorized (401)")
	ErrForbidden    = errors.New("client: forbidden (403)")
	ErrNotFound     = errors.New("client: not found (404)")
	ErrConflict     = errors.New("client: conflict (409)")
	ErrUnavailable  = errors.New("client: unavailable (503)")
)

// statusSentinels maps HTTP statuses to the sentinels above.
var statusSentinels = map[int]error{
	http.StatusBadRequest:         ErrValidation,
	http.StatusUnauthorized:       ErrUnauthorized,
	http.StatusForbidden:          ErrForbidden,
	http.StatusNotFound:           ErrNotFound,
	http.StatusConflict:           ErrConflict,
	http.StatusServiceUnavailable: ErrUnavailable,
}

// APIError is a request the API refused or failed: the HTTP status and the
// body of the API's error format.
type APIError struct {
	Status    int
	Code      string
	Message   string
	Details   []domain.FieldError
	TraceID   string
	Timestamp time.Time
}

// Error is the message followed by each field detail on its own line; a
// server error (5xx) also names its trace id, to find it in the logs.
func (e *APIError) Error() string {
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
// errors.Is(err, client.ErrNotFound).
func (e *APIError) Is(target error) bool {
	s, ok := statusSentinels[e.Status]
	return ok && s == target
}

// errorBody is the API's error format.
type errorBody struct {
	Error struct {
		Code      string              `json:"code"`
		Message   string              `json:"message"`
		Details   []domain.FieldError `json:"details"`
		TraceID   string              `json:"traceId"`
		Timestamp time.Time           `json:"timestamp"`
	} `json:"error"`
}

// decodeAPIError reads a failed answer. A body that is not in the API's
// format (a proxy's HTML page, say) still gives a readable error.
func decodeAPIError(resp *http.Response, body []byte) *APIError {
	e := &APIError{Status: resp.StatusCode, TraceID: resp.Header.Get("X-Trace-Id")}
	var eb errorBody
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
