package chaos

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
	"github.com/hotswap-db/hotswap/internal/testbed"
)

// Each scenario below starts its rollout, injects its fault at a moment
// drawn from the run's seed and undoes the fault (heals, thaws, restarts)
// when the scenario needs it undone to end; Run then waits for the
// execution to end, checks the invariants and repairs the world.

// agentKillTx kills the agent -9 while its transactional step runs
// (ADD COLUMN done, the transaction still open), then restarts it.
func agentKillTx(ctx context.Context, r *runner) error {
	ro := r.addColumn(domain.Direct, 2500*time.Millisecond, 60*time.Second, 0)
	if err := r.start(ctx, r.w.Servers[0], ro); err != nil {
		return err
	}
	if err := r.waitStatement(ctx, "pg_sleep(2.50)"); err != nil {
		return err
	}
	return r.killAgent(ctx, r.between(0, 2*time.Second), "the transaction's pause")
}

// agentKillStepwise kills the agent -9 at a random moment of a stepwise
// step: ADD COLUMN, then a slow CREATE INDEX CONCURRENTLY (the kill lands
// in either statement, between them, or after the step's result).
func agentKillStepwise(ctx context.Context, r *runner) error {
	r.hasIndex = true
	ro := rollout{
		up: fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s int; CREATE INDEX CONCURRENTLY %s ON %s ((slow_key(id)));",
			r.table, r.column, r.index, r.table),
		down: fmt.Sprintf("DROP INDEX CONCURRENTLY IF EXISTS %s; ALTER TABLE %s DROP COLUMN IF EXISTS %s;",
			r.index, r.table, r.column),
		strategy: domain.Direct, timeout: 90 * time.Second,
	}
	if err := r.start(ctx, r.w.Servers[0], ro); err != nil {
		return err
	}
	if err := r.waitStepStarted(ctx); err != nil {
		return err
	}
	return r.killAgent(ctx, r.between(0, 3*time.Second), "the step's start")
}

// agentKillCIC kills the agent -9 while its CREATE INDEX CONCURRENTLY
// builds: PostgreSQL's orphaned backend may finish the index after the
// agent is gone.
func agentKillCIC(ctx context.Context, r *runner) error {
	r.hasIndex, r.hasColumn = true, false
	ro := rollout{
		up:       fmt.Sprintf("CREATE INDEX CONCURRENTLY %s ON %s ((slow_key(id)));", r.index, r.table),
		down:     fmt.Sprintf("DROP INDEX CONCURRENTLY IF EXISTS %s;", r.index),
		strategy: domain.Direct, timeout: 90 * time.Second,
	}
	if err := r.start(ctx, r.w.Servers[0], ro); err != nil {
		return err
	}
	if err := r.waitStatement(ctx, "CREATE INDEX CONCURRENTLY "+r.index); err != nil {
		return err
	}
	return r.killAgent(ctx, r.between(0, 2*time.Second), "the build's start")
}

// killAgent waits d, kills the agent -9, and starts it again after a
// random pause.
func (r *runner) killAgent(ctx context.Context, d time.Duration, since string) error {
	pause(ctx, d)
	r.w.Agent.Kill()
	down := r.between(0, time.Second)
	r.note("agent killed %s after %s, restarted %s later", ms(d), since, ms(down))
	pause(ctx, down)
	if err := r.w.Agent.Start(); err != nil {
		return fmt.Errorf("chaos: restart the agent: %w", err)
	}
	return nil
}

// freezeTimeout is the frozen agent's execution (and step) timeout.
const freezeTimeout = 6 * time.Second

// agentFreeze freezes the agent (SIGSTOP) while its step holds ACCESS
// EXCLUSIVE, checks that the database frees the lock by the step's
// deadline, and thaws the agent some time after that.
func agentFreeze(ctx context.Context, r *runner) error {
	ro := r.addColumn(domain.Direct, 2*time.Second, freezeTimeout, 0)
	if err := r.start(ctx, r.w.Servers[0], ro); err != nil {
		return err
	}
	if err := r.waitStatement(ctx, "pg_sleep(2.00)"); err != nil {
		return err
	}
	d := r.between(0, 1500*time.Millisecond)
	pause(ctx, d)
	if err := r.w.Agent.Signal(syscall.SIGSTOP); err != nil {
		return fmt.Errorf("chaos: freeze the agent: %w", err)
	}
	e, err := r.execution(ctx)
	if err != nil {
		return err
	}
	r.exec = e
	// The locks must go by the step's deadline although the agent is
	// still frozen: the database ends its session.
	if err := r.checkLocks(ctx, r.lockDeadline()); err != nil {
		return err
	}
	frozen := r.between(0, 2*time.Second)
	pause(ctx, frozen)
	if err := r.w.Agent.Signal(syscall.SIGCONT); err != nil {
		return fmt.Errorf("chaos: thaw the agent: %w", err)
	}
	r.note("agent frozen %s into the step's pause, thawed %s after its locks went", ms(d), ms(frozen))
	return nil
}

// agentLinkCut cuts the agent's gRPC link (every connection dropped, new
// ones refused) at a random moment of the rollout, and heals it later.
func agentLinkCut(ctx context.Context, r *runner) error {
	ro := r.addColumn(domain.Direct, time.Second, 60*time.Second, 2*time.Second)
	if err := r.start(ctx, r.w.Servers[0], ro); err != nil {
		return err
	}
	at, outage := r.between(0, 3*time.Second), r.between(500*time.Millisecond, 4*time.Second)
	pause(ctx, at)
	r.w.AgentLink.Cut()
	pause(ctx, outage)
	r.w.AgentLink.Heal()
	r.note("agent link cut %s after the start for %s", ms(at), ms(outage))
	return nil
}

// leaderKill kills the leader -9 at a random moment of a Phased rollout
// over three instances; repair restarts it.
func leaderKill(ctx context.Context, r *runner) error {
	leader, err := r.w.Leader(ctx, nil)
	if err != nil {
		return err
	}
	ro := r.addColumn(domain.Phased, 300*time.Millisecond, 90*time.Second, time.Second)
	if err := r.start(ctx, leader, ro); err != nil {
		return err
	}
	d := r.between(0, 4*time.Second)
	pause(ctx, d)
	leader.Kill()
	r.note("leader %s killed %s after the start", leader.ID, ms(d))
	return nil
}

// followerPartition cuts one follower's Raft links at a random moment of
// a Phased rollout, writes through it while it is cut off, and heals it.
// A write it acknowledged must be the leader's; after healing it must
// catch up with the leader and see the execution's end.
func followerPartition(ctx context.Context, r *runner) error {
	leader, err := r.w.Leader(ctx, nil)
	if err != nil {
		return err
	}
	var fs []int
	for i, s := range r.w.Servers {
		if s != leader {
			fs = append(fs, i)
		}
	}
	f := r.w.Servers[fs[r.rng.IntN(len(fs))]]
	if err := r.start(ctx, leader, r.addColumn(domain.Phased, 300*time.Millisecond, 90*time.Second, time.Second)); err != nil {
		return err
	}
	at, write, outage := r.between(0, 2*time.Second), r.between(0, 3*time.Second), r.between(3*time.Second, 6*time.Second)
	pause(ctx, at)
	f.RaftProxy.Cut()
	pause(ctx, write)
	name := "partitioned-" + r.table
	_, werr := r.w.Client(f).CreateAgentToken(ctx, name)
	pause(ctx, outage-write)
	f.RaftProxy.Heal()
	r.note("follower %s cut off %s after the start for %s; a write through it %s", f.ID, ms(at), ms(outage), acked(werr))
	r.waitTerminal(ctx)
	if werr == nil {
		if _, err := r.w.Client(leader).GetAgent(ctx, name); err != nil {
			r.violate("follower %s acknowledged a write the leader does not have: %v", f.ID, err)
		}
	}
	return r.followerCaughtUp(ctx, f)
}

// followerCaughtUp: after healing, f applies what the leader has and
// answers the execution's terminal state.
func (r *runner) followerCaughtUp(ctx context.Context, s *testbed.Server) error {
	if err := r.w.caughtUp(ctx, s); err != nil {
		r.violate("%v", err)
		return nil
	}
	e, err := r.w.Client(s).GetExecution(ctx, r.migID, r.exec.ExecutionID)
	if err != nil {
		return fmt.Errorf("chaos: execution on %s: %w", s.ID, err)
	}
	if e.Status != r.exec.Status {
		r.violate("follower %s answers the execution %s after catching up, the leader %s", s.ID, e.Status, r.exec.Status)
	}
	return nil
}

func acked(err error) string {
	if err == nil {
		return "was acknowledged"
	}
	return "was refused (" + err.Error() + ")"
}

func ms(d time.Duration) string { return d.Round(time.Millisecond).String() }
