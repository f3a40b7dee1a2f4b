package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hotswap-db/hotswap/internal/pgbench"
)

// warmUp is the pgbench run before the measured ones, left out.
const warmUp = 5 * time.Second

// result is one measured run.
type result struct {
	setting int // index in env.settings
	tps     float64
	seconds float64 // wall time between the counters' readings
	// Per second of the run: the agent's sampling queries and their
	// database time (ms), and CPU seconds of the agent process, of its
	// database sessions and of hotswapd.
	samples, sampleMs            float64
	agentCPU, sessionCPU, srvCPU float64
}

// runAll warms up, then runs every setting in turn, o.runs times.
func (e *env) runAll(ctx context.Context) ([]result, error) {
	hz, err := clockTicks(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := e.pgbenchRun(ctx, warmUp); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	var out []result
	for round := 1; round <= e.o.runs; round++ {
		for i := range e.settings {
			r, err := e.oneRun(ctx, i, hz)
			if err != nil {
				return nil, fmt.Errorf("run %d, %s: %w", round, e.settings[i].name, err)
			}
			fmt.Printf("run %d %-12s %7.0f tps\n", round, e.settings[i].name, r.tps)
			out = append(out, r)
		}
	}
	return out, nil
}

// oneRun starts the setting's agent (if any), runs pgbench and reads the
// counters on both sides of it, then stops the agent.
func (e *env) oneRun(ctx context.Context, i int, hz float64) (result, error) {
	s := e.settings[i]
	configPath := ""
	if s.interval > 0 {
		if err := e.startAgent(ctx, s); err != nil {
			return result{}, err
		}
		defer s.agent.Kill()
		configPath = s.agent.ConfigPath
	}
	if _, err := e.admin.Exec(ctx, "CHECKPOINT"); err != nil {
		return result{}, fmt.Errorf("checkpoint: %w", err)
	}
	p, err := e.newProbe(ctx, configPath)
	if err != nil {
		return result{}, err
	}
	before, err := e.read(ctx, p)
	if err != nil {
		return result{}, err
	}
	tps, err := e.pgbenchRun(ctx, e.o.duration)
	if err != nil {
		return result{}, err
	}
	after, err := e.read(ctx, p)
	if err != nil {
		return result{}, err
	}
	return perSecond(i, tps, before, after, hz), nil
}

// perSecond turns two readings of the counters into the run's rates.
func perSecond(setting int, tps float64, before, after counters, hz float64) result {
	secs := after.at.Sub(before.at).Seconds()
	cpu := func(a, b int64) float64 { return float64(b-a) / hz / secs }
	return result{setting: setting, tps: tps, seconds: secs,
		samples:    float64(after.samples-before.samples) / secs,
		sampleMs:   (after.sampleMs - before.sampleMs) / secs,
		agentCPU:   cpu(before.agentCPU, after.agentCPU),
		sessionCPU: cpu(before.sessCPU, after.sessCPU),
		srvCPU:     cpu(before.serverCPU, after.serverCPU)}
}

// pgbenchRun runs the built-in tpcb-like script for d and returns its mean
// throughput over its one-second progress reports.
func (e *env) pgbenchRun(ctx context.Context, d time.Duration) (float64, error) {
	o := e.pgbench()
	o.Clients, o.Threads, o.Duration, o.Progress = e.o.clients, 2, d, time.Second
	var mu sync.Mutex
	var sum float64
	n := 0
	run, err := pgbench.Start(ctx, o, func(p pgbench.Progress) { mu.Lock(); sum += p.TPS; n++; mu.Unlock() })
	if err != nil {
		return 0, fmt.Errorf("start pgbench: %w", err)
	}
	if err := run.Wait(); err != nil {
		return 0, fmt.Errorf("pgbench: %w", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if n == 0 {
		return 0, fmt.Errorf("pgbench: no progress report in %s", d)
	}
	return sum / float64(n), nil
}
