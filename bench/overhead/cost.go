package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect/postgres"
)

// counters are the cumulative figures a run's cost is the difference of.
type counters struct {
	at        time.Time
	sampleMs  float64 // pg_stat_statements total_exec_time of the agent's queries
	samples   int64   // their calls
	agentCPU  int64   // clock ticks of the agent process (utime+stime)
	sessCPU   int64   // clock ticks of the agent's database sessions
	serverCPU int64   // clock ticks of hotswapd
}

// probe reads counters: the processes it looks at are found once per run.
type probe struct {
	agentPID    int   // 0: no agent
	sessionPIDs []int // the agent's backends
	serverPID   int
}

// newProbe finds the processes of a run: the agent started on configPath
// (none when empty), its database sessions and hotswapd.
func (e *env) newProbe(ctx context.Context, configPath string) (probe, error) {
	var p probe
	var err error
	if p.serverPID, err = findPID("hotswapd", e.srv.DataDir); err != nil {
		return p, err
	}
	if configPath == "" {
		return p, nil
	}
	if p.agentPID, err = findPID("hotswap-agent", configPath); err != nil {
		return p, err
	}
	rows, err := e.admin.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE application_name = $1", postgres.ApplicationName)
	if err != nil {
		return p, fmt.Errorf("the agent's sessions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var pid int32
		if err := rows.Scan(&pid); err != nil {
			return p, fmt.Errorf("the agent's sessions: %w", err)
		}
		p.sessionPIDs = append(p.sessionPIDs, int(pid))
	}
	return p, rows.Err()
}

// read takes the counters now.
func (e *env) read(ctx context.Context, p probe) (counters, error) {
	c := counters{at: time.Now()}
	err := e.admin.QueryRow(ctx, `SELECT coalesce(sum(total_exec_time), 0)::float8, coalesce(sum(calls), 0)::int8
		FROM pg_stat_statements WHERE starts_with(query, $1)`, postgres.AgentQueryTag).Scan(&c.sampleMs, &c.samples)
	if err != nil {
		return c, fmt.Errorf("pg_stat_statements: %w", err)
	}
	if c.serverCPU, err = cpuTicks(p.serverPID); err != nil {
		return c, err
	}
	if p.agentPID != 0 {
		if c.agentCPU, err = cpuTicks(p.agentPID); err != nil {
			return c, err
		}
	}
	for _, pid := range p.sessionPIDs {
		t, err := cpuTicks(pid)
		if err != nil {
			return c, err
		}
		c.sessCPU += t
	}
	return c, nil
}

// findPID returns the PID of the process whose program's name is program
// and whose command line holds arg.
func findPID(program, arg string) (int, error) {
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return 0, fmt.Errorf("list /proc: %w", err)
	}
	for _, d := range dirs {
		raw, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || len(raw) == 0 {
			continue // gone, or a kernel thread
		}
		args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		if filepath.Base(args[0]) == program && strings.Contains(string(raw), arg) {
			return strconv.Atoi(filepath.Base(d))
		}
	}
	return 0, fmt.Errorf("no %s process with %s on its command line", program, arg)
}

// cpuTicks returns a process's user and system time, in clock ticks, from
// /proc/<pid>/stat (fields 14 and 15).
func cpuTicks(pid int) (int64, error) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("cpu time of %d: %w", pid, err)
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0, fmt.Errorf("cpu time of %d: no command name in %q", pid, raw)
	}
	f := strings.Fields(string(raw[i+1:])) // f[0] is field 3
	if len(f) < 13 {
		return 0, fmt.Errorf("cpu time of %d: %d fields", pid, len(f)+2)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("cpu time of %d: %w", pid, err)
	}
	return utime + stime, nil
}

// clockTicks is the kernel's clock ticks per second (getconf CLK_TCK).
func clockTicks(ctx context.Context) (float64, error) {
	out, err := exec.CommandContext(ctx, "getconf", "CLK_TCK").Output()
	if err != nil {
		return 0, fmt.Errorf("getconf CLK_TCK: %w", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("getconf CLK_TCK: %q", out)
	}
	return float64(n), nil
}
