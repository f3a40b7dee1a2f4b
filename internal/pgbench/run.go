package pgbench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

const (
	// stderrTail is how many of pgbench's other stderr lines a failed run
	// reports.
	stderrTail = 10
	// stopGrace is how long pgbench has to exit once interrupted.
	stopGrace = 5 * time.Second
)

// Run is a running pgbench.
type Run struct {
	ctx    context.Context
	cmd    *exec.Cmd
	script string        // the custom script's file, removed at the end
	done   chan struct{} // closed once pgbench has exited and been reaped
	tail   []string      // last stderr lines that were not progress reports
	err    error         // the run's result, valid once done is closed
}

// Start starts pgbench for o.Duration. onProgress, when not nil, is called
// with each progress report, from a single goroutine, in order; the run
// reports progress only when o.Progress is set.
func Start(ctx context.Context, o Options, onProgress func(Progress)) (*Run, error) {
	script, err := writeScript(o.Script)
	if err != nil {
		return nil, err
	}
	r, err := start(ctx, o, script, onProgress)
	if err != nil && script != "" {
		_ = os.Remove(script)
	}
	return r, err
}

// start starts pgbench with the custom script's file script.
func start(ctx context.Context, o Options, script string, onProgress func(Progress)) (*Run, error) {
	args, err := o.runArgs(script)
	if err != nil {
		return nil, err
	}
	cmd := o.command(ctx, args)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = stopGrace
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("pgbench: stderr: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("pgbench: start %s: %w", cmd.Path, err)
	}
	r := &Run{ctx: ctx, cmd: cmd, script: script, done: make(chan struct{})}
	go r.watch(stderr, onProgress)
	return r, nil
}

// writeScript writes a custom script to a temporary file and returns its
// path, or "" for the built-in script.
func writeScript(contents string) (string, error) {
	if contents == "" {
		return "", nil
	}
	f, err := os.CreateTemp("", "pgbench-*.sql")
	if err != nil {
		return "", fmt.Errorf("pgbench: script: %w", err)
	}
	_, err = f.WriteString(contents)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("pgbench: write script %s: %w", f.Name(), err)
	}
	return f.Name(), nil
}

// watch reads pgbench's stderr to the end, then reaps pgbench.
func (r *Run) watch(stderr io.Reader, onProgress func(Progress)) {
	defer close(r.done)
	r.tail = scanStderr(stderr, onProgress)
	r.err = r.result(r.cmd.Wait())
	if r.script != "" {
		_ = os.Remove(r.script)
	}
}

// scanStderr reads pgbench's stderr to the end, reporting the progress
// lines to onProgress (when not nil), and returns the last of the others.
func scanStderr(stderr io.Reader, onProgress func(Progress)) []string {
	var tail []string
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		if p, ok := parseProgress(sc.Text()); ok {
			if onProgress != nil {
				onProgress(p)
			}
			continue
		}
		tail = append(tail, sc.Text())
		if len(tail) > stderrTail {
			tail = tail[1:]
		}
	}
	_, _ = io.Copy(io.Discard, stderr) // a line too long for the scanner
	return tail
}

// result turns the outcome of cmd.Wait into the run's error.
func (r *Run) result(err error) error {
	switch {
	case err == nil:
		return nil
	case r.ctx.Err() != nil:
		return fmt.Errorf("pgbench: %w", r.ctx.Err())
	}
	return fmt.Errorf("pgbench: %w: %s", err, strings.Join(r.tail, "\n"))
}

// Wait waits for pgbench to exit, after its progress reports have all been
// delivered, and returns an error when it did not exit cleanly.
func (r *Run) Wait() error {
	<-r.done
	return r.err
}

// Stop interrupts pgbench (SIGINT) and waits for it to exit, killing it if
// it is still running after stopGrace (it ignores SIGINT when started with
// SIGINT ignored). pgbench ends at once and the tail of its per-transaction
// log, still buffered, is lost: a caller that reads the log lets the run
// reach its Duration and calls Wait instead.
func (r *Run) Stop() {
	select {
	case <-r.done:
		return
	default:
	}
	_ = r.cmd.Process.Signal(os.Interrupt)
	select {
	case <-r.done:
	case <-time.After(stopGrace):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}
