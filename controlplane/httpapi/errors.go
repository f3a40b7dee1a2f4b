package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/hotswap-db/hotswap/controlplane/cluster"
	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// apiError is an error with its HTTP status and code.
type apiError struct {
	status  int
	code    string
	message string
	details []domain.FieldError
}

func (e *apiError) Error() string { return e.message }

func badRequest(msg string, details ...domain.FieldError) error {
	return &apiError{http.StatusBadRequest, api.CodeValidation, msg, details}
}

func notFound(msg string) error { return &apiError{http.StatusNotFound, api.CodeNotFound, msg, nil} }

// unavailable is a 503 for a request the server did not apply (no leader
// to take it, a log being replayed): the client may send it again.
func unavailable(msg string) error {
	return &apiError{http.StatusServiceUnavailable, api.CodeUnavailable, msg, nil}
}

// notApplied reports whether a 503 answer surely hides no applied write:
// all but a leader losing its leadership during the commit, and a
// forwarded write the leader took but did not answer.
func notApplied(ae *apiError, err error) bool {
	return ae.status == http.StatusServiceUnavailable && !errors.Is(err, cluster.ErrNotLeader) &&
		!errors.Is(err, errMaybeApplied)
}

// toAPIError maps any error to its status and code: one table for the API.
func toAPIError(err error) *apiError {
	var ae *apiError
	var ve *domain.ValidationError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &ve):
		return &apiError{http.StatusBadRequest, api.CodeValidation, "request validation failed", ve.Details}
	case errors.Is(err, fsm.ErrNotFound):
		return &apiError{http.StatusNotFound, api.CodeNotFound, err.Error(), nil}
	case errors.Is(err, fsm.ErrConflict):
		return &apiError{http.StatusConflict, api.CodeConflict, err.Error(), nil}
	case errors.Is(err, cluster.ErrNotLeader):
		return &apiError{http.StatusServiceUnavailable, api.CodeUnavailable, "no leader could take the write (an election is " +
			"under way, or the cluster lost quorum: a majority of its voters must be up and reach each other); " +
			"it may or may not have been applied: check before retrying", nil}
	}
	return &apiError{http.StatusInternalServerError, api.CodeInternal, "internal error", nil}
}

// indentLimit is the largest answer written indented, for people reading
// it; a larger one (a page of 1,000 agents) is written compact: indenting
// it cost more than encoding it.
const indentLimit = 64 << 10

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	var compact bytes.Buffer
	enc := json.NewEncoder(&compact)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return
	}
	if compact.Len() > indentLimit {
		_, _ = w.Write(compact.Bytes())
		return
	}
	var out bytes.Buffer
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		_, _ = w.Write(compact.Bytes())
		return
	}
	_, _ = w.Write(out.Bytes())
}
