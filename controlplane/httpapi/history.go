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
		ih := api.InstanceHistory{Agent: in.Agent, InstanceID: in.InstanceID, Rows: []domain.HistoryRow{}}
		rows, err := a.history.History(ctx, in.Agent, in.InstanceID)
		if err != nil {
			ih.Error, complete = err.Error(), false
		} else {
			ih.Rows = rows
		}
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
