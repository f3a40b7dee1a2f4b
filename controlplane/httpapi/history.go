package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

func (a *API) databaseHistory(w http.ResponseWriter, r *http.Request, _ principal) error {
	db, err := a.raft.State().Database(r.PathValue("id"))
	if err != nil {
		return err
	}
	out := api.DatabaseHistory{DatabaseID: db.DatabaseID, Name: db.Name, Drift: []api.Drift{}}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	complete := true
	for _, in := range db.Instances {
		ih, schema := a.instanceHistory(ctx, in)
		complete = complete && ih.Error == "" && ih.SchemaError == ""
		out.Drift = append(out.Drift, schema...)
		out.Instances = append(out.Instances, ih)
	}
	execs := a.raft.State().Executions(func(e *domain.Execution) bool { return e.DatabaseID == db.DatabaseID })
	for _, ih := range out.Instances {
		if ih.Error == "" {
			out.Drift = append(out.Drift, a.drift(ih, execs)...)
		}
	}
	out.InSync = complete && len(out.Drift) == 0
	writeJSON(w, http.StatusOK, out)
	return nil
}

// historyDriftReader is a HistoryReader that also compares an instance's
// schema with the fingerprints its agent recorded.
type historyDriftReader interface {
	HistoryAndDrift(ctx context.Context, agent, instance string) ([]domain.HistoryRow, []domain.SchemaDrift, string, error)
}

// instanceHistory reads one instance's history and, when the reader can,
// what changed out of band in its schema.
func (a *API) instanceHistory(ctx context.Context, in domain.InstanceRef) (api.InstanceHistory, []api.Drift) {
	ih := api.InstanceHistory{Agent: in.Agent, InstanceID: in.InstanceID, Rows: []domain.HistoryRow{}}
	hd, ok := a.history.(historyDriftReader)
	if !ok {
		rows, err := a.history.History(ctx, in.Agent, in.InstanceID)
		if err != nil {
			ih.Error = err.Error()
		} else {
			ih.Rows = rows
		}
		return ih, nil
	}
	rows, schema, schemaErr, err := hd.HistoryAndDrift(ctx, in.Agent, in.InstanceID)
	if err != nil {
		ih.Error = err.Error()
		return ih, nil
	}
	ih.Rows, ih.SchemaError = rows, schemaErr
	var out []api.Drift
	for _, d := range schema {
		out = append(out, api.Drift{Kind: "schema", Object: d.Object, Agent: in.Agent, InstanceID: in.InstanceID,
			ExecutionID: d.ExecutionID, StepID: d.StepID, Message: d.Message})
	}
	return ih, out
}

type stepRef struct{ exec, step string }

// drift compares one instance's history rows with the committed executions.
func (a *API) drift(ih api.InstanceHistory, execs []domain.Execution) []api.Drift {
	var out []api.Drift
	add := func(kind, exec, step, mig, format string, args ...any) {
		out = append(out, api.Drift{Kind: kind, Agent: ih.Agent, InstanceID: ih.InstanceID, ExecutionID: exec,
			StepID: step, MigrationID: mig, Message: fmt.Sprintf(format, args...)})
	}
	rows := map[stepRef]domain.HistoryRow{}
	for _, row := range ih.Rows {
		rows[stepRef{row.ExecutionID, row.StepID}] = row
	}
	steps := map[stepRef]domain.Step{}
	for _, e := range execs {
		for _, s := range e.Steps {
			if s.Agent != ih.Agent || s.InstanceID != ih.InstanceID || e.DryRun {
				continue
			}
			ref := stepRef{e.ExecutionID, s.StepID}
			steps[ref] = s
			if _, ok := rows[ref]; s.Status == domain.StepSucceeded && !ok {
				add("missing", e.ExecutionID, s.StepID, e.MigrationID,
					"the control plane recorded step %s (%s) as applied, but the instance's history has no row for it", s.StepID, s.Direction)
			}
		}
	}
	for ref, row := range rows {
		s, known := steps[ref]
		switch {
		case !known:
			add("unknown", row.ExecutionID, row.StepID, row.MigrationID,
				"the instance's history has step %s of %s (%s), which the control plane does not know", row.StepID, row.MigrationName, row.Direction)
		case s.Status != domain.StepSucceeded:
			add("unrecorded", row.ExecutionID, row.StepID, row.MigrationID,
				"the instance applied step %s, which the control plane records as %s", row.StepID, s.Status)
		}
		if m, err := a.raft.State().Migration(row.MigrationID); err == nil && m.Checksum(row.Direction) != row.Checksum {
			add("checksum", row.ExecutionID, row.StepID, row.MigrationID,
				"migration %s's %s script changed after it was applied", m.Name, row.Direction)
		}
	}
	return out
}
