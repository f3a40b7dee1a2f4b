package httpapi

import (
	"net/http"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// retryRollback runs a failed rollback again (409 unless the execution is
// Failed with a failed rollback step and its database's lock is free).
func (a *API) retryRollback(w http.ResponseWriter, r *http.Request, p principal) error {
	e, req, err := a.recoveryRequest(r)
	if err != nil {
		return err
	}
	if err := a.commit(w, r, fsm.RetryRollbackRequest{ExecutionID: e.ExecutionID, By: p.Name, Reason: req.Reason,
		At: a.now().UTC()}); err != nil {
		return err
	}
	return a.writeExecution(w, e.ExecutionID)
}

// resolveExecution marks a Failed execution resolved by hand; a reason is
// required.
func (a *API) resolveExecution(w http.ResponseWriter, r *http.Request, p principal) error {
	e, req, err := a.recoveryRequest(r)
	if err != nil {
		return err
	}
	if req.Reason == "" {
		return badRequest("a reason is required", domain.FieldError{Field: "reason", Message: "say what was put right, for the log"})
	}
	if err := a.commit(w, r, fsm.ResolveExecutionRequest{ExecutionID: e.ExecutionID, By: p.Name, Reason: req.Reason,
		At: a.now().UTC()}); err != nil {
		return err
	}
	return a.writeExecution(w, e.ExecutionID)
}

// recoveryRequest reads the execution of the path and the request body.
func (a *API) recoveryRequest(r *http.Request) (domain.Execution, api.RecoveryRequest, error) {
	var req api.RecoveryRequest
	e, err := a.execution(r)
	if err != nil {
		return e, req, err
	}
	body, err := readOptionalBody(r, smallBodyLimit)
	if err != nil {
		return e, req, err
	}
	return e, req, decodeStrict(body, &req)
}
