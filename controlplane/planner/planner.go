// Package planner turns a strategy and a database's topology (the roles and
// replication links its agents report) into the phases of an execution, and
// explains each one.
package planner

import (
	"fmt"
	"math"
	"strings"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// ErrUnsupported is a strategy this version cannot plan for the topology.
type ErrUnsupported struct {
	Strategy domain.Strategy
	Reason   string
}

func (e *ErrUnsupported) Error() string {
	return fmt.Sprintf("strategy %s: %s", e.Strategy, e.Reason)
}

// Topology gives what an instance's agent last reported; ok is false when
// it has not reported the instance.
type Topology func(ref domain.InstanceRef) (status domain.InstanceStatus, ok bool)

// Forward plans the forward steps of a migration on db with strategy.
//
//   - Direct applies the change on the master only.
//   - Phased applies it on each replica that takes DDL (logical subscribers
//     first, then independent copies), one per phase, then on the master,
//     then verifies on each physical standby that it arrived through WAL.
//   - Canary applies it in waves of 10%, 50% and 100% of the same units
//     (at least one per wave, the master in the last), then verifies the
//     standbys.
//
// BlueGreen and Shadow are refused with ErrUnsupported for now.
func Forward(db domain.Database, strategy domain.Strategy, topo Topology) (domain.Plan, error) {
	units, err := classify(db, topo)
	if err != nil {
		return domain.Plan{}, err
	}
	b := &builder{plan: domain.Plan{Strategy: strategy}}
	switch strategy {
	case domain.Direct:
		b.phase("master", fmt.Sprintf("Direct: apply on the master %s", name(units.master)), units.master)
	case domain.Phased:
		b.phased(units)
	case domain.Canary:
		b.canary(units)
	case domain.Shadow:
		if err := b.shadow(units, true); err != nil {
			return domain.Plan{}, err
		}
	case domain.BlueGreen:
		return domain.Plan{}, &ErrUnsupported{Strategy: strategy, Reason: "name the green instance and the pooler: blueGreen {\"green\": \"agent/instance\", \"pooler\": \"agent/pooler\"} (CLI: --blue-green)"}
	default:
		return domain.Plan{}, &ErrUnsupported{Strategy: strategy, Reason: "unknown strategy"}
	}
	if strategy != domain.Direct {
		b.verify(units.standbys, "verify")
	}
	b.explainSkipped(units)
	return b.plan, nil
}

// ShadowPlan plans a Shadow rollout; capture says whether the master's
// workload is captured first (no workload file was given).
func ShadowPlan(db domain.Database, topo Topology, capture bool) (domain.Plan, error) {
	units, err := classify(db, topo)
	if err != nil {
		return domain.Plan{}, err
	}
	b := &builder{plan: domain.Plan{Strategy: domain.Shadow}}
	if err := b.shadow(units, capture); err != nil {
		return domain.Plan{}, err
	}
	b.verify(units.standbys, "verify")
	return b.plan, nil
}

// BlueGreenPlan applies the change on green, then switches the pooler's
// clients from blue (the master) to green; a rollback switches back first.
func BlueGreenPlan(db domain.Database, spec domain.BlueGreenSpec) (domain.Plan, error) {
	master, _ := db.Master()
	if err := checkGreen(db, spec.Green); err != nil {
		return domain.Plan{}, err
	}
	b := &builder{plan: domain.Plan{Strategy: domain.BlueGreen}}
	b.phase("green: apply", fmt.Sprintf("apply the change on green %s while blue %s serves the clients", name(spec.Green), name(master)), spec.Green)
	pooler := domain.InstanceRef{Agent: spec.Agent, InstanceID: spec.Pooler}
	b.phase("switch to green", fmt.Sprintf("the agent %s switches pooler %s to green: PAUSE, repoint, RELOAD, RESUME", spec.Agent, spec.Pooler), pooler)
	last := &b.plan.Steps[len(b.plan.Steps)-1]
	last.Kind, last.Pooler, last.SwitchTo = domain.StepSwitch, spec.Pooler, "green"
	return b.plan, nil
}

// checkGreen refuses a green that is not registered in db or that serves
// its traffic (its Master: after a BlueGreen switch, the former green).
func checkGreen(db domain.Database, green domain.InstanceRef) error {
	for _, in := range db.Instances {
		if in.Agent != green.Agent || in.InstanceID != green.InstanceID {
			continue
		}
		if in.Role == domain.RoleMaster {
			return &ErrUnsupported{Strategy: domain.BlueGreen, Reason: fmt.Sprintf(
				"green %s serves the traffic of %s (it is its Master, since the last BlueGreen switch if there was one): "+
					"name an instance that does not serve traffic, such as the former blue once re-seeded", name(green), db.Name)}
		}
		return nil
	}
	return &ErrUnsupported{Strategy: domain.BlueGreen,
		Reason: fmt.Sprintf("green %s is not a registered instance of %s", name(green), db.Name)}
}

// The phases of the shadow trial.
const (
	PhaseCapture      = "shadow: capture workload"
	PhaseReplayBefore = "shadow: replay before"
	PhaseShadowApply  = "shadow: apply"
	PhaseReplayAfter  = "shadow: replay after"
)

// shadow adds the trial on the shadow instance, then a Phased rollout.
func (b *builder) shadow(u units, capture bool) error {
	if len(u.shadows) == 0 {
		return &ErrUnsupported{Strategy: domain.Shadow, Reason: "register an instance with role ShadowReplica to try the change on"}
	}
	sh := u.shadows[0]
	if capture {
		b.phase(PhaseCapture, "capture the master's recent read workload (the engine's statement statistics or statement log)", u.master)
		b.kind(domain.StepCapture)
	}
	b.phase(PhaseReplayBefore, "replay the workload on the shadow "+name(sh)+" before the change: its baseline", sh)
	b.kind(domain.StepReplay)
	b.phase(PhaseShadowApply, "apply the change on the shadow", sh)
	b.phase(PhaseReplayAfter, "replay it again after the change; go on only if p95 latency stays within the limit", sh)
	b.kind(domain.StepReplay)
	b.phased(u)
	return nil
}

// kind sets the kind of the last phase's steps.
func (b *builder) kind(k string) {
	idx := len(b.plan.Phases) - 1
	for i := range b.plan.Steps {
		if b.plan.Steps[i].PhaseIndex == idx {
			b.plan.Steps[i].Kind = k
		}
	}
}

// units are a database's instances by what a rollout does with them.
type units struct {
	master      domain.InstanceRef
	subscribers []domain.InstanceRef // logical replicas: take DDL, first
	independent []domain.InstanceRef // copies with no replication: take DDL
	standbys    []domain.InstanceRef // physical standbys: read-only, verified
	shadows     []domain.InstanceRef // left to the Shadow strategy
}

// classify sorts the instances by the role their agent reports, falling
// back on the declared role when the agent has not reported yet.
func classify(db domain.Database, topo Topology) (units, error) {
	var u units
	found := false
	for _, ref := range db.Instances {
		st, reported := topo(ref)
		switch {
		case ref.Role == domain.RoleMaster:
			if reported && st.Role == domain.DetectedStandby {
				return u, fmt.Errorf("instance %s is declared Master but the database reports it is a standby", name(ref))
			}
			u.master, found = ref, true
		case ref.Role == domain.RoleShadowReplica:
			u.shadows = append(u.shadows, ref)
		case !reported || st.Role == domain.DetectedStandby:
			u.standbys = append(u.standbys, ref)
		case hasLink(st, "upstream", "logical"):
			u.subscribers = append(u.subscribers, ref)
		default:
			u.independent = append(u.independent, ref)
		}
	}
	if !found {
		return u, fmt.Errorf("database %s has no Master instance", db.Name)
	}
	return u, nil
}

func hasLink(st domain.InstanceStatus, direction, kind string) bool {
	for _, l := range st.Links {
		if l.Direction == direction && l.Kind == kind {
			return true
		}
	}
	return false
}

// builder appends phases and their steps.
type builder struct {
	plan domain.Plan
	next int // step counter
}

func (b *builder) phase(name, why string, refs ...domain.InstanceRef) {
	idx := len(b.plan.Phases)
	b.plan.Phases = append(b.plan.Phases, domain.PhaseView{Index: idx, Name: name, Explanation: why, Steps: len(refs)})
	b.plan.Explanation = append(b.plan.Explanation, fmt.Sprintf("phase %d (%s): %s", idx+1, name, why))
	for _, ref := range refs {
		b.next++
		s := newStep(fmt.Sprintf("s%d", b.next), name, domain.Forward, ref)
		s.PhaseIndex = idx
		b.plan.Steps = append(b.plan.Steps, s)
	}
}

func (b *builder) phased(u units) {
	for _, r := range u.subscribers {
		b.phase("replica "+name(r), "a logical subscriber takes the DDL itself (logical replication does not carry it); subscribers go first so the publisher's new columns have somewhere to land", r)
	}
	for _, r := range u.independent {
		b.phase("replica "+name(r), "an independent copy takes the DDL itself; replicas go before the master", r)
	}
	why := "the master last, once every replica took the change"
	if len(u.subscribers)+len(u.independent) == 0 {
		why = "the database has no replicas that take DDL: the master alone"
	}
	b.phase("master", why, u.master)
}

func (b *builder) canary(u units) {
	order := append(append(append([]domain.InstanceRef{}, u.subscribers...), u.independent...), u.master)
	done := 0
	for i, share := range []float64{0.10, 0.50, 1.00} {
		upto := max(done+1, int(math.Ceil(share*float64(len(order)))))
		upto = min(upto, len(order))
		if i < 2 && upto == len(order) && len(order) > 1 {
			upto = len(order) - 1 // the master waits for the last wave
		}
		if upto <= done {
			continue
		}
		wave := order[done:upto]
		b.phase(fmt.Sprintf("wave %d (%d%%)", i+1, int(share*100)),
			fmt.Sprintf("%d of %d rollout units: %s", len(wave), len(order), names(wave)), wave...)
		done = upto
	}
}

// verify adds one phase of verify steps: each standby checks that every
// apply step of the phase before (the master's) arrived.
func (b *builder) verify(standbys []domain.InstanceRef, name string) {
	if len(standbys) == 0 {
		return
	}
	master := b.plan.Steps[len(b.plan.Steps)-1] // the master's apply: always the last phase before
	idx := len(b.plan.Phases)
	b.plan.Phases = append(b.plan.Phases, domain.PhaseView{Index: idx, Name: name, Steps: len(standbys),
		Explanation: fmt.Sprintf("physical standbys are read-only: the change reaches them through WAL; check that step %s arrived on %s and replay lag is within bounds", master.StepID, names(standbys))})
	b.plan.Explanation = append(b.plan.Explanation, fmt.Sprintf("phase %d (%s): %s", idx+1, name, b.plan.Phases[idx].Explanation))
	for _, ref := range standbys {
		b.next++
		s := newStep(fmt.Sprintf("s%d", b.next), name, domain.Forward, ref)
		s.Kind, s.Verifies, s.PhaseIndex = domain.StepVerify, master.StepID, idx
		b.plan.Steps = append(b.plan.Steps, s)
	}
}

func (b *builder) explainSkipped(u units) {
	for _, r := range u.shadows {
		b.plan.Explanation = append(b.plan.Explanation, fmt.Sprintf("%s is a ShadowReplica: left out (the Shadow strategy uses it)", name(r)))
	}
}

// Rollback plans the undoing of the applied forward steps, phases in
// reverse order, and verifies on the standbys that the master's rollback
// arrived. A step counts as applied when it succeeded, or when it ran some
// statements outside a transaction before it stopped.
func Rollback(steps []domain.Step) []domain.Step {
	last := -1
	for _, s := range steps {
		last = max(last, s.PhaseIndex)
	}
	var out []domain.Step
	for i := len(steps) - 1; i >= 0; i-- {
		s := steps[i]
		if s.Direction != domain.Forward || (s.Kind != domain.StepApply && s.Kind != domain.StepSwitch) || !applied(s) {
			continue
		}
		rb := newStep(s.StepID+"-rollback", "rollback of "+s.Phase, domain.Rollback, domain.InstanceRef{Agent: s.Agent, InstanceID: s.InstanceID})
		rb.Reverts, rb.PhaseIndex, rb.LocalOnly = s.StepID, last+1+(last-s.PhaseIndex), s.LocalOnly
		if s.Kind == domain.StepSwitch {
			rb.Kind, rb.Pooler, rb.SwitchTo, rb.Phase = domain.StepSwitch, s.Pooler, "blue", "switch back to blue"
		}
		out = append(out, rb)
	}
	return append(out, verifyRollback(steps, out)...)
}

// verifyRollback checks on each standby that was verified going forward
// that the rollback of the step it verified arrived too.
func verifyRollback(steps, rollbacks []domain.Step) []domain.Step {
	byReverted := map[string]domain.Step{}
	top := 0
	for _, rb := range rollbacks {
		byReverted[rb.Reverts] = rb
		top = max(top, rb.PhaseIndex)
	}
	var out []domain.Step
	for _, s := range steps {
		rb, ok := byReverted[s.Verifies]
		if s.Kind != domain.StepVerify || s.Status != domain.StepSucceeded || !ok {
			continue
		}
		v := newStep(s.StepID+"-rollback", "verify rollback", domain.Rollback, domain.InstanceRef{Agent: s.Agent, InstanceID: s.InstanceID})
		v.Kind, v.Verifies, v.PhaseIndex = domain.StepVerify, rb.StepID, top+1
		out = append(out, v)
	}
	return out
}

func applied(s domain.Step) bool {
	if s.Kind == domain.StepSwitch {
		return s.Status != domain.StepPending // it may have switched before it failed: switching back is harmless
	}
	switch s.Status {
	case domain.StepSucceeded:
		return true
	case domain.StepFailed, domain.StepCancelled:
		return !s.Transactional && len(s.Statements) > 0
	}
	return false
}

func newStep(id, phase string, dir domain.Direction, in domain.InstanceRef) domain.Step {
	return domain.Step{StepID: id, Kind: domain.StepApply, Phase: phase, Direction: dir, Agent: in.Agent,
		InstanceID: in.InstanceID, Status: domain.StepPending, Statements: []domain.StatementResult{}}
}

func name(r domain.InstanceRef) string { return r.Agent + "/" + r.InstanceID }

func names(refs []domain.InstanceRef) string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = name(r)
	}
	return strings.Join(out, ", ")
}

// FleetWaves splits a fleet's databases into waves of 10%, 50% and 100%,
// at least one database per wave, in the order given.
func FleetWaves(ids []string) [][]string {
	var waves [][]string
	done := 0
	for _, share := range []float64{0.10, 0.50, 1.00} {
		upto := min(len(ids), max(done+1, int(math.Ceil(share*float64(len(ids))))))
		if upto <= done {
			continue
		}
		waves = append(waves, ids[done:upto])
		done = upto
	}
	return waves
}
