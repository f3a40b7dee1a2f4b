package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/hotswap-db/hotswap/controlplane/cluster"
	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// The error codes of the API.
const (
	codeValidation   = "VALIDATION_ERROR"
	codeUnauthorized = "UNAUTHORIZED"
	codeNotFound     = "NOT_FOUND"
	codeConflict     = "CONFLICT"
	codeUnavailable  = "UNAVAILABLE"
	codeInternal     = "INTERNAL_ERROR"
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

// apiError is an error with its HTTP status and code.
type apiError struct {
	status  int
	code    string
	message string
	details []domain.FieldError
}

func (e *apiError) Error() string { return e.message }

func badRequest(msg string, details ...domain.FieldError) error {
	return &apiError{http.StatusBadRequest, codeValidation, msg, details}
}

func notFound(msg string) error { return &apiError{http.StatusNotFound, codeNotFound, msg, nil} }

func unavailable(msg string) error {
	return &apiError{http.StatusServiceUnavailable, codeUnavailable, msg, nil}
}

// toAPIError maps any error to its status and code: one table for the API.
func toAPIError(err error) *apiError {
	var ae *apiError
	var ve *domain.ValidationError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &ve):
		return &apiError{http.StatusBadRequest, codeValidation, "request validation failed", ve.Details}
	case errors.Is(err, fsm.ErrNotFound):
		return &apiError{http.StatusNotFound, codeNotFound, err.Error(), nil}
	case errors.Is(err, fsm.ErrConflict):
		return &apiError{http.StatusConflict, codeConflict, err.Error(), nil}
	case errors.Is(err, cluster.ErrNotLeader):
		return &apiError{http.StatusServiceUnavailable, codeUnavailable, "no leader could take the write; retry shortly", nil}
	}
	return &apiError{http.StatusInternalServerError, codeInternal, "internal error", nil}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
