package httpapi

import (
	"net/http"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// pathMigration is the migration the path's {id} names: its id, its name
// or a unique prefix of its id (404 for none, 409 listing the candidates
// when several match).
func (a *API) pathMigration(r *http.Request) (domain.Migration, error) {
	return a.raft.State().FindMigration(r.PathValue("id"))
}

// execution finds an execution of the migration in the path; both may be
// named by a short id (and the migration by its name).
func (a *API) execution(r *http.Request) (domain.Execution, error) {
	m, err := a.pathMigration(r)
	if err != nil {
		return domain.Execution{}, err
	}
	e, err := a.raft.State().FindExecution(r.PathValue("executionId"))
	if err != nil {
		return e, err
	}
	if e.MigrationID != m.MigrationID {
		return e, notFound("execution " + e.ExecutionID + " does not belong to migration " + m.MigrationID)
	}
	return e, nil
}

// getExecutionByID answers one execution named by its id or a unique
// prefix of it, without its migration's id.
func (a *API) getExecutionByID(w http.ResponseWriter, r *http.Request, _ principal) error {
	e, err := a.raft.State().FindExecution(r.PathValue("executionId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}
