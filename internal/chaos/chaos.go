// Package chaos runs fault scenarios against real HotSwap servers, agents
// and PostgreSQL that the test bed starts: a leader killed mid-rollout, an
// agent killed inside a transactional or a stepwise step, an agent frozen
// past its step's deadline, the agent's link cut, a follower partitioned
// from the leader. Each run of a scenario is driven by one seed (the
// fault's timing) and ends with the same checks: the execution reaches a
// terminal state, every applied step has exactly one history row, the
// catalog matches the steps' status, and no HotSwap session holds a lock
// past the step's deadline. The chaos test runs every scenario once; the
// soak (cmd/hotswap-chaos, `make chaos`) runs them many times and counts.
package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// Scenario is one kind of fault, run in a world of its Kind.
type Scenario struct {
	Name string
	Kind Kind
	// Doc says what the fault is, for the soak's help.
	Doc    string
	inject func(ctx context.Context, r *runner) error
}

// Scenarios lists every scenario, in the order the chaos test runs them.
func Scenarios() []Scenario {
	return []Scenario{
		{Name: "agent-kill-tx", Kind: Single, Doc: "agent kill -9 inside a transactional step", inject: agentKillTx},
		{Name: "agent-kill-stepwise", Kind: Single, Doc: "agent kill -9 inside a stepwise step (ADD COLUMN, then CREATE INDEX CONCURRENTLY)", inject: agentKillStepwise},
		{Name: "agent-kill-cic", Kind: Single, Doc: "agent kill -9 while CREATE INDEX CONCURRENTLY builds", inject: agentKillCIC},
		{Name: "agent-freeze", Kind: Single, Doc: "agent frozen (SIGSTOP) holding ACCESS EXCLUSIVE, past its step's deadline", inject: agentFreeze},
		{Name: "agent-link-cut", Kind: Single, Doc: "the agent's gRPC link cut by the proxy, then healed", inject: agentLinkCut},
		{Name: "leader-kill", Kind: Cluster, Doc: "leader kill -9 mid-rollout (3 servers, Phased)", inject: leaderKill},
		{Name: "follower-partition", Kind: Cluster, Doc: "a follower's Raft links cut mid-rollout, then healed", inject: followerPartition},
	}
}

// Find returns the scenario called name.
func Find(name string) (Scenario, bool) {
	for _, s := range Scenarios() {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

// Outcome is how a run ended, for the soak's counts.
type Outcome string

// The outcomes.
const (
	Succeeded  Outcome = "succeeded"
	RolledBack Outcome = "rolled back"
	Failed     Outcome = "failed"
	// Unfinished: the execution did not reach a terminal state.
	Unfinished Outcome = "unfinished"
	// Broken: the run itself could not be carried out (a server did not
	// start, a query failed); it says nothing about HotSwap's behaviour.
	Broken Outcome = "broken"
)

// Result is what one run found.
type Result struct {
	Scenario string
	Seed     uint64
	Status   domain.ExecutionStatus
	// Fault says what was done and when, so a run can be read back.
	Fault      string
	Violations []string
	Err        error
	Took       time.Duration
}

// Outcome classifies the run.
func (r Result) Outcome() Outcome {
	switch {
	case r.Err != nil:
		return Broken
	case r.Status == domain.ExecutionSucceeded:
		return Succeeded
	case r.Status == domain.ExecutionRolledBack:
		return RolledBack
	case r.Status == domain.ExecutionFailed:
		return Failed
	}
	return Unfinished
}

// String is one line about the run.
func (r Result) String() string {
	s := fmt.Sprintf("%-19s seed %-20d %-11s %5.1fs  %s", r.Scenario, r.Seed, r.Outcome(), r.Took.Seconds(), r.Fault)
	if r.Err != nil {
		s += "\n    error: " + r.Err.Error()
	}
	for _, v := range r.Violations {
		s += "\n    VIOLATION: " + v
	}
	return s
}

// runLimit bounds one run, its checks and the world's repair included.
const runLimit = 4 * time.Minute

// Run runs sc once in w, with its fault's timing drawn from seed, checks
// the invariants and puts the world back in order for the next run.
func Run(ctx context.Context, w *World, sc Scenario, seed uint64) Result {
	ctx, cancel := context.WithTimeout(ctx, runLimit)
	defer cancel()
	started := time.Now()
	res := Result{Scenario: sc.Name, Seed: seed}
	if sc.Kind != w.Kind {
		res.Err = fmt.Errorf("chaos: scenario %s needs a %s world, not %s", sc.Name, sc.Kind, w.Kind)
		return res
	}
	r := newRunner(w, seed)
	res.Err = w.ready(ctx)
	if res.Err == nil {
		res.Err = sc.inject(ctx, r)
	}
	if res.Err == nil {
		r.waitTerminal(ctx)
		res.Err = r.check(ctx)
	}
	if err := w.repair(ctx); err != nil && res.Err == nil {
		res.Err = err
	}
	res.Status, res.Fault, res.Violations = r.exec.Status, r.fault(), r.violations
	res.Took = time.Since(started)
	return res
}

// newRunner prepares one run: its names and its random source.
func newRunner(w *World, seed uint64) *runner {
	w.runs++
	n := w.runs
	return &runner{w: w, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		hasColumn: true, table: fmt.Sprintf("chaos_%d", n), column: fmt.Sprintf("c%d", n), index: fmt.Sprintf("chaos_%d_idx", n)}
}
