package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/sqlcheck"
	"github.com/hotswap-db/hotswap/internal/tracing"
)

// decodeMigrationSpec reads and checks a migration: fields, target,
// dependencies, the scripts parsed by the target engine's parser, and the
// requested risk against the one the engine's linter computes.
func (a *API) decodeMigrationSpec(r *http.Request, p principal) (domain.MigrationSpec, verdict, error) {
	var spec domain.MigrationSpec
	var v verdict
	body, err := readBody(r, migrationBodyLimit, "migrationScript", "rollbackScript")
	if err != nil {
		return spec, v, err
	}
	if err := decodeStrict(body, &spec); err != nil {
		return spec, v, err
	}
	requested := spec.RiskLevel
	spec = spec.WithDefaults()
	defer func(start time.Time) { a.observeValid(time.Since(start)) }(time.Now())
	errs := domain.ValidateMigrationSpec(spec)
	if spec.TargetDatabaseID != "" {
		db, err := a.raft.State().Database(spec.TargetDatabaseID)
		if err != nil {
			errs = append(errs, domain.FieldError{Field: "targetDatabaseId", Message: "no database with this id or name"})
		} else {
			spec.TargetDatabaseID = db.DatabaseID
			errs = append(errs, checkScripts(db.Type, spec)...)
			v = a.judge(db, spec.MigrationScript)
			errs = append(errs, settleRisk(&spec, requested, v, p.Role == string(domain.RoleAdmin))...)
		}
	}
	errs = append(errs, a.checkDependencies(spec)...)
	return spec, v, domain.AsError(errs)
}

func checkScripts(engine domain.DatabaseType, spec domain.MigrationSpec) []domain.FieldError {
	var errs []domain.FieldError
	for _, s := range []struct{ field, script string }{
		{"migrationScript", spec.MigrationScript}, {"rollbackScript", spec.RollbackScript},
	} {
		if s.script == "" || len(s.script) > domain.MaxScriptBytes {
			continue // already reported
		}
		var serr *sqlcheck.SyntaxError
		if err := sqlcheck.Check(engine, s.script); errors.As(err, &serr) {
			errs = append(errs, domain.FieldError{Field: s.field, Message: serr.Error()})
		}
	}
	return errs
}

func (a *API) checkDependencies(spec domain.MigrationSpec) []domain.FieldError {
	var errs []domain.FieldError
	for i, dep := range spec.Dependencies {
		m, err := a.raft.State().Migration(dep)
		switch {
		case err != nil:
			errs = append(errs, domain.FieldError{Field: fieldf("dependencies[%d]", i), Message: "no migration " + dep})
		case m.TargetDatabaseID != spec.TargetDatabaseID:
			errs = append(errs, domain.FieldError{Field: fieldf("dependencies[%d]", i), Message: "migration " + dep + " targets another database"})
		}
	}
	return errs
}

func (a *API) createMigration(w http.ResponseWriter, r *http.Request, p principal) error {
	spec, v, err := a.decodeMigrationSpec(r, p)
	if err != nil {
		return err
	}
	now := a.now().UTC().Truncate(time.Millisecond)
	m := domain.Migration{MigrationID: "mig-" + uuid.NewString(), Status: domain.MigrationDraft,
		CreatedBy: p.Name, CreatedAt: now, UpdatedAt: now}
	spec.Apply(&m)
	v.record(&m)
	m.RiskOverride = riskOverride(spec, v, p, now)
	a.markApproval(&m)
	m.TraceContext = tracing.Inject(r.Context()) // executions link to this check
	if err := a.commit(w, r, fsm.CreateMigrationRequest{Migration: m}); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, m)
	return nil
}

func (a *API) getMigration(w http.ResponseWriter, r *http.Request, _ principal) error {
	m, err := a.pathMigration(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (a *API) updateMigration(w http.ResponseWriter, r *http.Request, p principal) error {
	m, err := a.pathMigration(r)
	if err != nil {
		return err
	}
	spec, v, err := a.decodeMigrationSpec(r, p)
	if err != nil {
		return err
	}
	spec.Apply(&m)
	v.record(&m)
	a.markApproval(&m)
	m.UpdatedAt = a.now().UTC().Truncate(time.Millisecond)
	m.RiskOverride = riskOverride(spec, v, p, m.UpdatedAt)
	if err := a.commit(w, r, fsm.UpdateMigrationRequest{Migration: m}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (a *API) deleteMigration(w http.ResponseWriter, r *http.Request, _ principal) error {
	m, err := a.pathMigration(r)
	if err != nil {
		return err
	}
	if err := a.commit(w, r, fsm.DeleteMigrationRequest{MigrationID: m.MigrationID}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listMigrations(w http.ResponseWriter, r *http.Request, _ principal) error {
	q := r.URL.Query()
	filter := fsm.MigrationFilter{Status: domain.MigrationStatus(q.Get("status"))}
	var errs []domain.FieldError
	if filter.Status != "" && !validStatus(filter.Status) {
		errs = append(errs, domain.FieldError{Field: "status", Message: "unknown migration status " + string(filter.Status)})
	}
	if name := q.Get("database"); name != "" {
		db, err := a.raft.State().Database(name)
		if err != nil {
			return err
		}
		filter.DatabaseID = db.DatabaseID
	}
	pg, perrs := readPage(q, api.DefaultMigrationPage)
	if err := domain.AsError(append(errs, perrs...)); err != nil {
		return err
	}
	all := a.raft.State().Migrations(filter)
	list := api.MigrationList{Migrations: []api.MigrationSummary{}, Total: len(all), Limit: pg.limit, Offset: pg.offset}
	for _, m := range pageOf(all, pg) {
		list.Migrations = append(list.Migrations, a.summarize(m))
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (a *API) summarize(m domain.Migration) api.MigrationSummary {
	s := api.MigrationSummary{MigrationID: m.MigrationID, Name: m.Name, Status: m.Status, TargetDatabaseID: m.TargetDatabaseID,
		Strategy: m.Strategy, RiskLevel: m.RiskLevel, RequiresApproval: m.RequiresApproval, Tags: m.Tags,
		CreatedBy: m.CreatedBy, CreatedAt: m.CreatedAt}
	if db, err := a.raft.State().Database(m.TargetDatabaseID); err == nil {
		s.TargetDatabase = db.Name
	}
	return s
}

func validStatus(s domain.MigrationStatus) bool {
	for _, v := range domain.MigrationStatuses {
		if v == s {
			return true
		}
	}
	return false
}

func queryInt(s string, def, lo, hi int) (int, error) {
	if s == "" {
		return def, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		return 0, fmt.Errorf("must be a whole number from %d to %d", lo, hi)
	}
	return v, nil
}

func fieldErr(field string, err error) []domain.FieldError {
	if err == nil {
		return nil
	}
	return []domain.FieldError{{Field: field, Message: err.Error()}}
}

func fieldf(format string, a ...any) string { return fmt.Sprintf(format, a...) }
