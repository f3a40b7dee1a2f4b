package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// result is one run's figures, each from the kill.
type result struct {
	killed      string
	leader      time.Duration // a new leader agreed by the survivors (polled)
	agent       time.Duration // the agent's session on the new leader (its ConnectedAt)
	nextStep    time.Duration // the next step's StartedAt: the leader assigned it
	nextRan     time.Duration // the next step's first statement started on the agent
	afterWindow time.Duration // the next step's StartedAt after the monitor window's end
	status      domain.ExecutionStatus
}

func (r result) line(i int) string {
	return fmt.Sprintf("run %2d: killed %s; new leader %s, agent reconnected %s, next step assigned %s and running on the agent %s after the kill (%s after its monitor window ended); rollout %s",
		i, r.killed, ms(r.leader), ms(r.agent), ms(r.nextStep), ms(r.nextRan), ms(r.afterWindow), r.status)
}

func ms(d time.Duration) string { return d.Round(time.Millisecond).String() }

// killRun starts a rollout, kills its leader just before the first
// step's monitor window ends, measures the recovery, waits for the rollout
// to end and restarts the killed server.
func (c *cluster) killRun(ctx context.Context, i int) (result, error) {
	leader, err := c.ensure(ctx)
	if err != nil {
		return result{}, err
	}
	cl := c.client(leader.server)
	migID, exID, err := c.startRollout(ctx, cl, i)
	if err != nil {
		return result{}, err
	}
	ex, err := c.waitMonitorWindow(ctx, cl, migID, exID)
	if err != nil {
		return result{}, err
	}
	started := startedSteps(ex)
	wait(ctx, time.Until(ex.MonitorUntil.Add(-c.o.killBefore)))
	killAt := time.Now()
	leader.server.Kill()
	r, err := c.measure(ctx, leader, killAt, migID, exID, started)
	if err != nil {
		return r, err
	}
	r.afterWindow = r.nextStep - ex.MonitorUntil.Sub(killAt)
	_, err = c.restart(ctx, leader.server)
	return r, err
}

// measure polls the survivors for what followed the kill at killAt.
func (c *cluster) measure(ctx context.Context, old member, killAt time.Time, migID, exID string, started map[string]bool) (result, error) {
	r := result{killed: old.server.ID}
	nl, err := c.waitLeader(ctx, old.server, killAt)
	if err != nil {
		return r, err
	}
	r.leader = time.Since(killAt)
	if err := c.waitAgent(ctx, nl, killAt); err != nil {
		return r, fmt.Errorf("agent on the new leader: %w", err)
	}
	ag, err := c.client(nl.server).GetAgent(ctx, agentName)
	if err != nil {
		return r, err
	}
	r.agent = ag.ConnectedAt.Sub(killAt)
	next, err := c.nextStep(ctx, nl, migID, exID, started)
	if err != nil {
		return r, err
	}
	r.nextStep = next.StartedAt.Sub(killAt)
	ran, err := c.firstStatement(ctx, nl, migID, exID, next.StepID)
	if err != nil {
		return r, err
	}
	r.nextRan = ran.Sub(killAt)
	r.status, err = c.waitEnd(ctx, nl, migID, exID)
	return r, err
}

// startRollout creates and executes a Phased migration over the database:
// one step per instance, a monitor window after each.
func (c *cluster) startRollout(ctx context.Context, cl *api.Client, i int) (string, string, error) {
	col := fmt.Sprintf("c%d", i)
	m, err := cl.CreateMigration(ctx, domain.MigrationSpec{Name: "add_" + col, TargetDatabaseID: dbName,
		MigrationScript: "ALTER TABLE orders ADD COLUMN " + col + " int;",
		RollbackScript:  "ALTER TABLE orders DROP COLUMN IF EXISTS " + col + ";", Strategy: domain.Phased, RiskLevel: domain.RiskLow})
	if err != nil {
		return "", "", fmt.Errorf("create migration: %w", err)
	}
	ex, err := cl.ExecuteMigration(ctx, m.MigrationID, api.ExecuteRequest{Strategy: domain.Phased,
		Monitoring: &domain.MonitorSettings{MonitorWindowSeconds: c.o.monitorSeconds, BaselineWindowSeconds: 5}})
	if err != nil {
		return "", "", fmt.Errorf("execute: %w", err)
	}
	return m.MigrationID, ex.ExecutionID, nil
}

// waitMonitorWindow waits until the first step succeeded and its monitor
// window has more than --kill-before left.
func (c *cluster) waitMonitorWindow(ctx context.Context, cl *api.Client, migID, exID string) (domain.Execution, error) {
	return c.pollExecution(ctx, cl, migID, exID, func(ex domain.Execution) (bool, error) {
		if ex.Status.Terminal() {
			return false, fmt.Errorf("the rollout ended %s before the kill", ex.Status)
		}
		if len(ex.Steps) < 2 {
			return false, fmt.Errorf("the plan has %d steps, want several", len(ex.Steps))
		}
		return ex.Steps[0].Status == domain.StepSucceeded && ex.Steps[1].StartedAt.IsZero() &&
			time.Until(ex.MonitorUntil) > c.o.killBefore, nil
	})
}

// nextStep waits for a step that had not started before the kill to start.
func (c *cluster) nextStep(ctx context.Context, nl member, migID, exID string, started map[string]bool) (domain.Step, error) {
	var next domain.Step
	_, err := c.pollExecution(ctx, c.client(nl.server), migID, exID, func(ex domain.Execution) (bool, error) {
		for _, s := range ex.Steps {
			if !started[s.StepID] && !s.StartedAt.IsZero() {
				next = s
				return true, nil
			}
		}
		if ex.Status.Terminal() {
			return false, fmt.Errorf("the rollout ended %s with no step after the kill", ex.Status)
		}
		return false, nil
	})
	return next, err
}

// firstStatement waits for the step's result and returns when the agent
// started its first statement (the agent's clock: the same machine here).
func (c *cluster) firstStatement(ctx context.Context, nl member, migID, exID, stepID string) (time.Time, error) {
	var at time.Time
	_, err := c.pollExecution(ctx, c.client(nl.server), migID, exID, func(ex domain.Execution) (bool, error) {
		s, ok := ex.Step(stepID)
		if !ok || s.Status == domain.StepPending || s.Status == domain.StepRunning {
			return false, nil
		}
		if s.Status != domain.StepSucceeded || len(s.Statements) == 0 {
			return false, fmt.Errorf("step %s ended %s with %d statements", stepID, s.Status, len(s.Statements))
		}
		at = s.Statements[0].StartedAt
		return true, nil
	})
	return at, err
}

func (c *cluster) waitEnd(ctx context.Context, nl member, migID, exID string) (domain.ExecutionStatus, error) {
	ex, err := c.pollExecution(ctx, c.client(nl.server), migID, exID, func(ex domain.Execution) (bool, error) {
		return ex.Status.Terminal(), nil
	})
	return ex.Status, err
}

// pollExecution reads the execution until done says so, for two minutes at most.
func (c *cluster) pollExecution(ctx context.Context, cl *api.Client, migID, exID string, done func(domain.Execution) (bool, error)) (domain.Execution, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		ex, err := cl.GetExecution(ctx, migID, exID)
		if err == nil {
			ok, derr := done(ex)
			if derr != nil || ok {
				return ex, derr
			}
		}
		select {
		case <-ctx.Done():
			return ex, errors.Join(fmt.Errorf("execution %s", exID), err, ctx.Err())
		case <-time.After(pollEvery):
		}
	}
}

func startedSteps(ex domain.Execution) map[string]bool {
	out := map[string]bool{}
	for _, s := range ex.Steps {
		if !s.StartedAt.IsZero() {
			out[s.StepID] = true
		}
	}
	return out
}

func wait(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
