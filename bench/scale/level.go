package main

import (
	"context"
	"fmt"
	"os"
	"time"
)

// level is what was measured at one agent count.
type level struct {
	agents, connected  int
	running, watched   int
	sessions, failures int64
	cores, benchCores  float64 // CPU-seconds per second: hotswapd's, the simulated agents' process's
	rss                int64
	entriesPerSecond   float64
	reads              map[string][]time.Duration
	all                []time.Duration
	readErrors         int
}

func (l level) line() string {
	return fmt.Sprintf("  %d agents: hotswapd %.2f cores, RSS %d MiB, %.1f Raft entries/s, API p99 %s over %d reads (%d failed); %d executions in flight, %d in a monitor window",
		l.agents, l.cores, l.rss>>20, l.entriesPerSecond, ms(percentile(l.all, 0.99)), len(l.all), l.readErrors, l.running, l.watched)
}

func ms(d time.Duration) string { return d.Round(100 * time.Microsecond).String() }

// measure waits --settle, then for --duration reads hotswapd's CPU, the
// Raft entries applied and the API reads' latency.
func (e *env) measure(ctx context.Context) (level, error) {
	wait(ctx, e.o.settle)
	l := level{agents: len(e.agents)}
	c0, b0, r0, err := e.counters(ctx)
	if err != nil {
		return l, err
	}
	start := time.Now()
	pctx, cancel := context.WithTimeout(ctx, e.o.duration)
	l.reads, l.readErrors = e.probe(pctx, e.o.probeGap)
	cancel()
	c1, b1, r1, err := e.counters(ctx)
	if err != nil {
		return l, err
	}
	secs, hz := time.Since(start).Seconds(), float64(clockTicks())
	l.cores, l.benchCores = float64(c1-c0)/hz/secs, float64(b1-b0)/hz/secs
	l.entriesPerSecond = (r1 - r0) / secs
	for _, ds := range l.reads {
		l.all = append(l.all, ds...)
	}
	if l.rss, err = rssBytes(e.pid); err != nil {
		return l, err
	}
	l.connected, l.sessions, l.failures = int(e.stats.connected.Load()), e.stats.sessions.Load(), e.stats.errors.Load()
	l.running, l.watched, err = e.inFlight(ctx)
	return l, err
}

// counters reads hotswapd's and this process's CPU ticks and the applied entries.
func (e *env) counters(ctx context.Context) (srv, bench int64, entries float64, err error) {
	if srv, err = cpuTicks(e.pid); err != nil {
		return
	}
	if bench, err = cpuTicks(os.Getpid()); err != nil {
		return
	}
	entries, err = e.raftEntries(ctx)
	return
}

func wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
