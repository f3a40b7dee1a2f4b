// Package planner turns a strategy and a database's topology into the
// ordered steps of an execution, and explains each one.
package planner

import (
	"fmt"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// Plan is the steps of an execution, with why they are in that order.
type Plan struct {
	Strategy    domain.Strategy `json:"strategy"`
	Steps       []domain.Step   `json:"steps"`
	Explanation []string        `json:"explanation"`
}

// ErrUnsupported is a strategy this version cannot plan for the topology.
type ErrUnsupported struct {
	Strategy domain.Strategy
	Reason   string
}

func (e *ErrUnsupported) Error() string {
	return fmt.Sprintf("strategy %s: %s", e.Strategy, e.Reason)
}

// Forward plans the forward steps of a migration on db with strategy.
//
// Direct applies the change on the master. Phased and Canary on a database
// with no instance but its master reduce to the same single step. Plans
// over replicas, and BlueGreen and Shadow, need the topology-aware planner
// and are refused for now with ErrUnsupported.
func Forward(db domain.Database, strategy domain.Strategy) (Plan, error) {
	master, ok := db.Master()
	if !ok {
		return Plan{}, fmt.Errorf("database %s has no Master instance", db.Name)
	}
	plan := Plan{Strategy: strategy}
	switch {
	case strategy == domain.Direct:
		plan.Explanation = append(plan.Explanation,
			fmt.Sprintf("Direct: apply on the master %s/%s", master.Agent, master.InstanceID))
	case (strategy == domain.Phased || strategy == domain.Canary) && len(db.Instances) == 1:
		plan.Explanation = append(plan.Explanation,
			fmt.Sprintf("%s: the database has no replicas, so the only phase is the master %s/%s", strategy, master.Agent, master.InstanceID))
	default:
		return Plan{}, &ErrUnsupported{Strategy: strategy,
			Reason: "rollouts over replicas are not available yet; use Direct (the master only)"}
	}
	plan.Steps = []domain.Step{newStep("s1", "master", domain.Forward, master)}
	return plan, nil
}

// Rollback plans the rollback of the forward steps that were applied, in
// reverse order. A step counts as applied when it succeeded, or when it ran
// some statements outside a transaction before it stopped.
func Rollback(steps []domain.Step) []domain.Step {
	var out []domain.Step
	for i := len(steps) - 1; i >= 0; i-- {
		s := steps[i]
		if s.Direction != domain.Forward || !applied(s) {
			continue
		}
		rb := newStep(s.StepID+"-rollback", "rollback", domain.Rollback,
			domain.InstanceRef{Agent: s.Agent, InstanceID: s.InstanceID})
		rb.Reverts = s.StepID
		out = append(out, rb)
	}
	return out
}

func applied(s domain.Step) bool {
	switch s.Status {
	case domain.StepSucceeded:
		return true
	case domain.StepFailed, domain.StepCancelled:
		return !s.Transactional && len(s.Statements) > 0
	}
	return false
}

func newStep(id, phase string, dir domain.Direction, in domain.InstanceRef) domain.Step {
	return domain.Step{StepID: id, Phase: phase, Direction: dir, Agent: in.Agent, InstanceID: in.InstanceID,
		Status: domain.StepPending, Statements: []domain.StatementResult{}}
}
