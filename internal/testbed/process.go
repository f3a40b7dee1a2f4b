package testbed

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is one run of a server's main process.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited
	err  error         // Wait's result, valid after done is closed
}

// startProcess starts cmd and returns its run, whose done channel closes
// when it exits.
func startProcess(cmd *exec.Cmd) (*process, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	proc := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		proc.err = cmd.Wait()
		close(proc.done)
	}()
	return proc, nil
}

// crash kills the postmaster and every process it forked with SIGKILL.
// PostgreSQL's children leave the postmaster's process group (setsid), so
// they are found by parent PID, with the postmaster stopped first so that it
// forks no more and their PIDs cannot be reused before they are killed. It
// waits for the postmaster, then briefly for its children to go.
func (pr *process) crash() {
	pid := pr.cmd.Process.Pid
	_ = syscall.Kill(pid, syscall.SIGSTOP)
	children := childPIDs(pid)
	_ = syscall.Kill(pid, syscall.SIGKILL)
	for _, c := range children {
		_ = syscall.Kill(c, syscall.SIGKILL)
	}
	<-pr.done
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && slices.ContainsFunc(children, isRunning) {
		time.Sleep(pollInterval)
	}
}

// childPIDs lists the processes whose parent is ppid, from /proc.
func childPIDs(ppid int) []int {
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	var pids []int
	for _, path := range paths {
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		if state, parent, ok := procStat(pid); ok && parent == ppid && state != 'Z' {
			pids = append(pids, pid)
		}
	}
	return pids
}

// isRunning reports whether pid exists and is not a zombie.
func isRunning(pid int) bool {
	state, _, ok := procStat(pid)
	return ok && state != 'Z'
}

// procStat reads a process's state and parent PID from /proc/PID/stat.
func procStat(pid int) (state byte, ppid int, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	// "pid (comm) state ppid ...": comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	fields := strings.Fields(string(b[i+1:]))
	if i < 0 || len(fields) < 2 || len(fields[0]) != 1 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(fields[1])
	return fields[0][0], ppid, err == nil
}

// daemon is the process handling every server of the test bed shares: the
// running process, its PID, a clean stop, a crash and a restart. Postgres,
// MariaDB and PgBouncer embed it. Its methods are safe for concurrent use.
type daemon struct {
	name     string         // the server, named in errors: "postgres"
	shutdown syscall.Signal // the clean shutdown's signal
	grace    time.Duration  // how long Stop waits for it before SIGKILL
	// killOK says that a SIGKILL after the grace is expected, not an
	// error: the server keeps nothing on disk.
	killOK bool
	// start launches the server again on its port, for Restart.
	start func(ctx context.Context) error

	mu   sync.Mutex
	proc *process // nil when stopped
}

// PID returns the server's PID, 0 when it is not running.
func (d *daemon) PID() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proc == nil {
		return 0
	}
	return d.proc.cmd.Process.Pid
}

// Stop shuts the server down with its clean shutdown's signal and waits for
// it, killing it (and what it forked) if it has not exited after a
// timeout. Stopping a stopped server does nothing.
func (d *daemon) Stop() error {
	proc := d.takeProcess()
	if proc == nil {
		return nil
	}
	_ = proc.cmd.Process.Signal(d.shutdown)
	select {
	case <-proc.done:
		return nil
	case <-time.After(d.grace):
	}
	proc.crash()
	if d.killOK {
		return nil
	}
	return fmt.Errorf("%s pid %d ignored %s for %s and was killed", d.name, proc.cmd.Process.Pid, d.shutdown, d.grace)
}

// Kill crashes the server: SIGKILL to it and what it forked, as a power
// loss would. Restart brings it back (a database through crash recovery).
func (d *daemon) Kill() {
	if proc := d.takeProcess(); proc != nil {
		proc.crash()
	}
}

// Restart stops the server if it runs and starts it again on the same port.
func (d *daemon) Restart(ctx context.Context) error {
	if err := d.Stop(); err != nil {
		return err
	}
	return d.start(ctx)
}

// running records proc as the server's running process.
func (d *daemon) running(proc *process) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.proc = proc
}

// takeProcess detaches the running process, if any, from d.
func (d *daemon) takeProcess() *process {
	d.mu.Lock()
	defer d.mu.Unlock()
	proc := d.proc
	d.proc = nil
	return proc
}

// waitReady polls ping until it answers, proc exits (startFailure says
// why), or timeout passes. logTail is the end of the server's log.
func (d *daemon) waitReady(ctx context.Context, proc *process, port int, timeout time.Duration,
	ping func(context.Context) error, logTail func() string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := ping(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-proc.done:
			return d.startFailure(proc, port, logTail())
		case <-ctx.Done():
			return fmt.Errorf("%s on port %d not ready: %w (last error: %v)%s", d.name, port, ctx.Err(), err, logTail())
		case <-time.After(pollInterval):
		}
	}
}

// startFailure forgets proc, which exited during startup, and explains
// why from the log's tail; a port taken meanwhile wraps errPortTaken.
func (d *daemon) startFailure(proc *process, port int, tail string) error {
	d.mu.Lock()
	if d.proc == proc {
		d.proc = nil
	}
	d.mu.Unlock()
	err := fmt.Errorf("%s on port %d exited during startup (%v)%s", d.name, port, proc.err, tail)
	if strings.Contains(tail, "Address already in use") {
		return fmt.Errorf("%w: %w", errPortTaken, err)
	}
	return err
}
