package main

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/internal/api"
)

// cpuTicks is a process's utime+stime from /proc/PID/stat, in clock ticks.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read stat: %w", err)
	}
	// The command name, in brackets, may hold spaces: fields follow its ')'.
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return utime + stime, nil
}

// rssBytes is a process's resident set (VmRSS of /proc/PID/status).
func rssBytes(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read status: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for %d", pid)
}

// clockTicks is getconf CLK_TCK (100 when it cannot be read).
func clockTicks() int64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if n, perr := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && perr == nil && n > 0 {
		return n
	}
	return 100
}

// raftEntries sums hotswap_raft_applied_entries_total over its commands.
func (e *env) raftEntries(ctx context.Context) (float64, error) {
	text, err := e.api.Metrics(ctx)
	if err != nil {
		return 0, fmt.Errorf("read metrics: %w", err)
	}
	sum := 0.0
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "hotswap_raft_applied_entries_total{") {
			continue
		}
		if v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64); err == nil {
			sum += v
		}
	}
	return sum, nil
}

// readCall is one API read the prober times.
type readCall struct {
	name string
	do   func(ctx context.Context) error
}

func (e *env) readCalls() []readCall {
	var migs []string
	for m := range e.executions {
		migs = append(migs, m)
	}
	pick := func(list []string) string { return list[rand.IntN(len(list))] }
	calls := []readCall{
		{"GET /api/v1/agents/{name}", func(ctx context.Context) error { _, err := e.api.GetAgent(ctx, pick(e.agents)); return err }},
		{"GET /api/v1/agents", func(ctx context.Context) error {
			_, err := e.api.ListAgents(ctx, api.ListAgentsRequest{})
			return err
		}},
		{"GET /api/v1/agents?limit=1000", func(ctx context.Context) error {
			_, err := e.api.ListAgents(ctx, api.ListAgentsRequest{Limit: api.MaxPageSize})
			return err
		}},
		{"GET /api/v1/databases", func(ctx context.Context) error { _, err := e.api.ListDatabases(ctx); return err }},
	}
	if len(migs) > 0 {
		calls = append(calls, readCall{"GET .../executions/{id}", func(ctx context.Context) error {
			m := pick(migs)
			_, err := e.api.GetExecution(ctx, m, e.executions[m])
			return err
		}})
	}
	return calls
}

// probe times the read calls in turn, one every gap, until ctx ends, and
// returns each call's latencies.
func (e *env) probe(ctx context.Context, gap time.Duration) (map[string][]time.Duration, int) {
	calls := e.readCalls()
	out := map[string][]time.Duration{}
	failed := 0
	for i := 0; ctx.Err() == nil; i++ {
		c := calls[i%len(calls)]
		start := time.Now()
		err := c.do(context.WithoutCancel(ctx))
		if err != nil {
			failed++
		} else {
			out[c.name] = append(out[c.name], time.Since(start))
		}
		select {
		case <-ctx.Done():
		case <-time.After(gap):
		}
	}
	return out, failed
}

// percentile of ds (sorted in place), nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(p*float64(len(ds))+0.5) - 1
	return ds[max(0, min(i, len(ds)-1))]
}
