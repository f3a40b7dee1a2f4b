package planner

import (
	"fmt"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/sqlcheck"
)

// ForwardScript plans like Forward, knowing the script. On an engine whose
// replicas can take a change themselves (its checker is a
// sqlcheck.RollingChecker: MySQL, MariaDB), a Phased rollout over replicas
// is a rolling schema change when the script is replication-compatible
// (each replica first, then the primary, every step kept out of
// replication), and otherwise runs on the primary alone, replicated, with
// verify steps on the replicas. The plan's explanation says which and why.
func ForwardScript(db domain.Database, strategy domain.Strategy, topo Topology, script string) (domain.Plan, error) {
	rc, rolling := sqlcheck.Rolling(db.Type)
	if !rolling || strategy != domain.Phased {
		return Forward(db, strategy, topo)
	}
	u, err := classify(db, topo)
	if err != nil {
		return domain.Plan{}, err
	}
	b := &builder{plan: domain.Plan{Strategy: strategy}}
	if len(u.standbys) == 0 {
		b.phase("master", "the database has no replicas: the primary alone", u.master)
		return b.plan, nil
	}
	ok, why := rc.RollingCompatible(script)
	if !ok {
		b.phase("master", fmt.Sprintf("primary only, binary-logged: %s; the replicas get it through replication", why), u.master)
		b.verify(u.standbys, "verify")
		b.plan.Phases[len(b.plan.Phases)-1].Explanation = fmt.Sprintf("check that step %s arrived on %s through replication and their lag is within bounds",
			b.plan.Steps[len(b.plan.Steps)-len(u.standbys)-1].StepID, names(u.standbys))
		return b.plan, nil
	}
	b.plan.Explanation = append(b.plan.Explanation, "rolling schema change: "+why+"; each server takes it with sql_log_bin=0, replicas first, the primary last")
	for _, r := range u.standbys {
		b.phase("replica "+name(r), "a replica takes the change itself with sql_log_bin=0, before the primary", r)
	}
	b.phase("master", "the primary last, with sql_log_bin=0, once every replica has the change", u.master)
	for i := range b.plan.Steps {
		b.plan.Steps[i].LocalOnly = true
	}
	b.explainSkipped(u)
	return b.plan, nil
}
