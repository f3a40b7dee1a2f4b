package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hotswap-db/hotswap/controlplane/fsm"
	"github.com/hotswap-db/hotswap/controlplane/validation"
	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/lint"
	"github.com/hotswap-db/hotswap/internal/sqlcheck"
)

// CatalogReader looks relations up in an instance's catalog through its agent.
type CatalogReader interface {
	Inspect(ctx context.Context, agent, instance string, req domain.CatalogRequest) (domain.CatalogFacts, error)
}

const (
	// inspectTimeout bounds the live look-up of a validation.
	inspectTimeout = 20 * time.Second
	// writeWindow is how long the agent watches the tables' write counters.
	writeWindow = 1500 * time.Millisecond
)

// validateMigration judges a migration against its database: statically
// when the master's agent cannot be asked, live when it can.
func (a *API) validateMigration(w http.ResponseWriter, r *http.Request, _ principal) error {
	var req api.ValidateRequest
	body, err := readOptionalBody(r, smallBodyLimit)
	if err != nil {
		return err
	}
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	m, err := a.pathMigration(r)
	if err != nil {
		return err
	}
	db, err := a.raft.State().Database(m.TargetDatabaseID)
	if err != nil {
		return err
	}
	opts := lint.Options{Target: a.reportedTarget(db)}
	static, err := sqlcheck.Lint(db.Type, m.MigrationScript, opts)
	if errors.Is(err, sqlcheck.ErrNoChecker) {
		return badRequest(fmt.Sprintf("%s scripts cannot be validated: %v", db.Type, errNoLinter))
	}
	if err != nil {
		return badRequest("the migration script does not parse", domain.FieldError{Field: "migrationScript", Message: err.Error()})
	}
	in := validation.Input{Result: static, Replicas: a.replicaLag(db), Conflicts: a.conflicts(m, static),
		MaxLagSeconds: domain.DefaultThresholds().ReplicationLagSeconds, Engine: db.Type}
	facts, where, why := a.inspectMaster(r.Context(), db, validation.Relations(static))
	if facts != nil {
		opts.Catalog = validation.NewCatalog(facts)
		if live, err := sqlcheck.Lint(db.Type, m.MigrationScript, opts); err == nil {
			in.Result, in.Facts = live, facts
		}
	}
	resp := validation.Judge(in)
	resp.Instance, resp.LiveReason = where, why
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// inspectMaster asks the master's agent about the relations. It returns
// nil facts and the reason when it cannot.
func (a *API) inspectMaster(ctx context.Context, db domain.Database, rels []domain.ObjectName) (*domain.CatalogFacts, string, string) {
	master, ok := db.Master()
	if !ok {
		return nil, "", "the database has no master instance: checked statically"
	}
	where := master.Agent + "/" + master.InstanceID
	if a.catalog == nil {
		return nil, where, "this server reads no catalog: checked statically"
	}
	if !a.presence.Presence()[master.Agent].Connected {
		return nil, where, fmt.Sprintf("agent %s is not connected: checked statically, without the catalog of %s", master.Agent, where)
	}
	ctx, cancel := context.WithTimeout(ctx, inspectTimeout)
	defer cancel()
	facts, err := a.catalog.Inspect(ctx, master.Agent, master.InstanceID,
		domain.CatalogRequest{Relations: rels, WriteWindowMs: writeWindow.Milliseconds()})
	if err != nil {
		return nil, where, fmt.Sprintf("the catalog of %s could not be read (%v): checked statically", where, err)
	}
	return &facts, where, ""
}

// replicaLag is the lag each of the database's other instances reports.
func (a *API) replicaLag(db domain.Database) []validation.Replica {
	live := a.presence.Presence()
	var out []validation.Replica
	for _, ref := range db.Instances {
		if ref.Role == domain.RoleMaster {
			continue
		}
		for _, st := range live[ref.Agent].Instances {
			if st.InstanceID == ref.InstanceID {
				out = append(out, validation.Replica{Name: ref.Agent + "/" + ref.InstanceID, LagSeconds: st.ReplicationLagSeconds})
			}
		}
	}
	return out
}

// conflicts names the executions running on the database and the other
// pending migrations of it, outside m's dependencies, that touch a table m
// touches.
func (a *API) conflicts(m domain.Migration, r lint.Result) []string {
	st := a.raft.State()
	var out []string
	for _, e := range st.Executions(func(e *domain.Execution) bool { return !e.Status.Terminal() }) {
		if other, err := st.Migration(e.MigrationID); err == nil && other.TargetDatabaseID == m.TargetDatabaseID {
			out = append(out, fmt.Sprintf("execution %s of migration %s is %s on this database", e.ExecutionID, other.Name, e.Status))
		}
	}
	mine := tablesOf(r)
	db, _ := st.Database(m.TargetDatabaseID)
	for _, other := range st.Migrations(fsm.MigrationFilter{DatabaseID: m.TargetDatabaseID}) {
		if other.MigrationID == m.MigrationID || other.Status == domain.MigrationSucceeded || related(m, other) {
			continue
		}
		theirs, err := sqlcheck.Lint(db.Type, other.MigrationScript, lint.Options{})
		if err != nil {
			continue
		}
		for t := range tablesOf(theirs) {
			if mine[t] {
				out = append(out, fmt.Sprintf("migration %s (%s) also changes %s and is not a dependency", other.Name, other.Status, t))
				break
			}
		}
	}
	return out
}

func tablesOf(r lint.Result) map[string]bool {
	out := map[string]bool{}
	for _, o := range r.Objects {
		if o.Kind == lint.ObjectTable && o.Action != lint.ActionRead {
			out[o.Name] = true
		}
		if o.Table != "" {
			out[o.Table] = true
		}
	}
	return out
}

// related reports whether one migration depends on the other directly.
func related(a, b domain.Migration) bool {
	for _, d := range a.Dependencies {
		if d == b.MigrationID {
			return true
		}
	}
	for _, d := range b.Dependencies {
		if d == a.MigrationID {
			return true
		}
	}
	return false
}
