package planner

import (
	"fmt"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// FleetChild plans one database's execution of a fleet rollout: a Direct
// plan on that database, queued for its lock, with the rollout's settings.
// id and at are chosen by the caller (ids are random, times the leader's).
func FleetChild(parent domain.Execution, db domain.Database, topo Topology, id string, at time.Time) (domain.Execution, error) {
	plan, err := Forward(db, domain.Direct, topo)
	if err != nil {
		return domain.Execution{}, fmt.Errorf("database %s: %w", db.Name, err)
	}
	return domain.Execution{ExecutionID: id, MigrationID: parent.MigrationID, DatabaseID: db.DatabaseID,
		Environment: db.Environment, Strategy: domain.Direct, Status: domain.ExecutionPending, InitiatedBy: parent.InitiatedBy,
		DryRun: parent.DryRun, Queued: true, Steps: plan.Steps, Phases: plan.Phases, LockTimeoutMs: parent.LockTimeoutMs,
		StatementTimeoutMs: parent.StatementTimeoutMs, TimeoutSeconds: parent.TimeoutSeconds,
		Monitoring: parent.Monitoring, Decisions: []domain.Decision{}, ParentID: parent.ExecutionID, CreatedAt: at,
		Logs: []domain.LogEntry{{Time: at, Level: "info",
			Message: fmt.Sprintf("part of fleet rollout %s, wave %d", parent.ExecutionID, parent.Fleet.Wave+1)}}}, nil
}
