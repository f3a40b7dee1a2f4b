package httpapi

import (
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

func (a *API) decodeDatabaseSpec(r *http.Request) (domain.DatabaseSpec, error) {
	var spec domain.DatabaseSpec
	body, err := readBody(r, smallBodyLimit)
	if err != nil {
		return spec, err
	}
	if err := decodeStrict(body, &spec); err != nil {
		return spec, err
	}
	if err := domain.AsError(domain.ValidateDatabaseSpec(spec)); err != nil {
		return spec, err
	}
	return spec, a.checkAgentsExist(spec)
}

// checkAgentsExist refuses instances of agents nobody registered, with a
// 400 that names the field (the FSM checks again at commit).
func (a *API) checkAgentsExist(spec domain.DatabaseSpec) error {
	var errs []domain.FieldError
	for i, in := range spec.Instances {
		if _, err := a.raft.State().Agent(in.Agent); err != nil {
			errs = append(errs, domain.FieldError{Field: fieldf("instances[%d].agent", i),
				Message: "no agent named " + in.Agent + " is registered (hotswap agent token create " + in.Agent + ")"})
		}
	}
	return domain.AsError(errs)
}

func (a *API) createDatabase(w http.ResponseWriter, r *http.Request, _ principal) error {
	spec, err := a.decodeDatabaseSpec(r)
	if err != nil {
		return err
	}
	now := a.now().UTC().Truncate(time.Millisecond)
	db := domain.Database{DatabaseID: "db-" + uuid.NewString(), CreatedAt: now, UpdatedAt: now}
	spec.Apply(&db)
	if err := a.commit(w, r, fsm.CreateDatabaseRequest{Database: db}); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, db)
	return nil
}

func (a *API) listDatabases(w http.ResponseWriter, _ *http.Request, _ principal) error {
	dbs := a.raft.State().Databases()
	writeJSON(w, http.StatusOK, api.DatabaseList{Databases: dbs, Total: len(dbs)})
	return nil
}

func (a *API) getDatabase(w http.ResponseWriter, r *http.Request, _ principal) error {
	db, err := a.raft.State().Database(r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, db)
	return nil
}

func (a *API) updateDatabase(w http.ResponseWriter, r *http.Request, _ principal) error {
	db, err := a.raft.State().Database(r.PathValue("id"))
	if err != nil {
		return err
	}
	spec, err := a.decodeDatabaseSpec(r)
	if err != nil {
		return err
	}
	spec.Apply(&db)
	db.UpdatedAt = a.now().UTC().Truncate(time.Millisecond)
	if err := a.commit(w, r, fsm.UpdateDatabaseRequest{Database: db}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, db)
	return nil
}

func (a *API) deleteDatabase(w http.ResponseWriter, r *http.Request, _ principal) error {
	db, err := a.raft.State().Database(r.PathValue("id"))
	if err != nil {
		return err
	}
	var cmd fsm.Command = fsm.DeleteDatabaseRequest{DatabaseID: db.DatabaseID}
	switch r.URL.Query().Get("force") {
	case "true":
		cmd = fsm.DeleteDatabaseHistoryRequest{DatabaseID: db.DatabaseID}
	case "", "false":
	default:
		return badRequest("force: want true or false")
	}
	if err := a.commit(w, r, cmd); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
