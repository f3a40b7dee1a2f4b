package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

// maxPollFailures is how many polls in a row may fail (a server restarting,
// a leader change) before watching gives up.
const maxPollFailures = 5

// watcher follows one execution: at each poll it prints the log lines it
// has not printed yet, and a status line when the status, progress or
// phase changed. Quiet (JSON output) prints nothing while it polls.
type watcher struct {
	client      *api.Client
	migrationID string
	executionID string
	interval    time.Duration
	out         printer
	errOut      io.Writer
	quiet       bool

	last    domain.Execution // the last state polled
	figures int64            // unix ms of the newest snapshot printed
	seen    int              // how many log lines the last poll had
	lastLog domain.LogEntry  // the newest log line printed
	status  string           // the last status line printed
	smooth  smoother         // recent figures, averaged
	left    time.Duration    // the monitor window's time left last printed
	now     func() time.Time
}

func newWatcher(c *cli.Context, cl *api.Client, migrationID, executionID string) *watcher {
	p := newPrinter(c)
	return &watcher{client: cl, migrationID: migrationID, executionID: executionID, interval: c.Duration("interval"),
		out: p, errOut: c.App.ErrWriter, quiet: p.isJSON(), now: time.Now}
}

// checkInterval refuses an --interval that would not wait between polls.
func checkInterval(c *cli.Context) error {
	if c.Duration("interval") <= 0 {
		return usageErr(c, "--interval %s: want a positive duration, e.g. 500ms", c.Duration("interval"))
	}
	return nil
}

func executionWatch(c *cli.Context) error {
	if err := checkExecArgs(c); err != nil {
		return err
	}
	if err := checkInterval(c); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	migID, execID, err := executionRef(c, cl)
	if err != nil {
		return err
	}
	return watchToEnd(c, newWatcher(c, cl, migID, execID))
}

// watchToEnd follows an execution until it ends, prints the outcome and
// returns an error unless it Succeeded.
func watchToEnd(c *cli.Context, w *watcher) error {
	if !w.quiet {
		w.out.linef("Watching %s of migration %s every %s (Ctrl-C stops watching; the execution goes on).",
			w.executionID, w.migrationID, w.interval)
	}
	e, err := w.run(c.Context)
	if err != nil {
		return err
	}
	if w.quiet {
		if err := w.out.json(e); err != nil {
			return err
		}
	}
	if rolledBackAsAsked(e) {
		if !w.quiet {
			w.out.linef("Execution %s rolled back as %s asked (%s): the rollback succeeded.", e.ExecutionID,
				e.RollbackRequestedBy, oneLine(e.RollbackReason))
		}
		return nil
	}
	if e.Status != domain.ExecutionSucceeded {
		return executionError(e)
	}
	if !w.quiet {
		w.out.linef("%s", succeeded(e))
	}
	return nil
}

// rolledBackAsAsked reports whether an execution ended RolledBack because
// a person asked for it (not HotSwap's guard or a failed step): the
// rollback that was wanted succeeded, so watching exits 0.
func rolledBackAsAsked(e domain.Execution) bool {
	return e.Status == domain.ExecutionRolledBack && e.RollbackRequested && e.RollbackRequestedBy != "" &&
		!strings.HasPrefix(e.RollbackRequestedBy, "hotswap (")
}

// succeeded is the closing line of an execution that succeeded.
func succeeded(e domain.Execution) string {
	if e.DryRun {
		return fmt.Sprintf("Dry run %s succeeded in %s: the script would apply (nothing was changed).",
			e.ExecutionID, span(e.StartedAt, e.CompletedAt))
	}
	return fmt.Sprintf("Execution %s succeeded in %s.", e.ExecutionID, span(e.StartedAt, e.CompletedAt))
}

// run polls until the execution ends or ctx is cancelled (Ctrl-C). A
// failed poll is retried unless the API refused it (4xx).
func (w *watcher) run(ctx context.Context) (domain.Execution, error) {
	failures := 0
	for {
		e, err := w.client.GetExecution(ctx, w.migrationID, w.executionID)
		switch {
		case ctx.Err() != nil:
			return w.last, w.interrupted()
		case err == nil:
			failures = 0
			w.update(e)
			w.printFigures(ctx)
			if e.Status.Terminal() {
				return e, nil
			}
		case !retryable(err) || failures+1 >= maxPollFailures:
			return w.last, fmt.Errorf("watch execution: %w", err)
		default:
			failures++
			fmt.Fprintf(w.errOut, "hotswap: polling failed (%d/%d), retrying: %v\n", failures, maxPollFailures, err)
		}
		select {
		case <-ctx.Done():
			return w.last, w.interrupted()
		case <-time.After(w.interval):
		}
	}
}

// retryable reports whether a failed poll may succeed if tried again: the
// server was unreachable or failed (5xx), rather than refused the request.
func retryable(err error) bool {
	var ae *api.Error
	return !errors.As(err, &ae) || ae.Status >= 500
}

// update prints what changed since the previous poll.
func (w *watcher) update(e domain.Execution) {
	w.last = e
	if w.quiet {
		return
	}
	for _, l := range w.newLogs(e.Logs) {
		printLog(w.out, l)
	}
	if n := len(e.Logs); n > 0 {
		w.seen, w.lastLog = n, e.Logs[n-1]
	}
	if s := statusLine(e); s != w.status {
		w.out.linef("==> %s", s)
		w.status = s
	}
	now := time.Now
	if w.now != nil {
		now = w.now
	}
	if left, open := countdown(e, now()); open && left != w.left {
		w.out.linef("    monitor window: %s left (until %s)", left, e.MonitorUntil.Local().Format("15:04:05"))
		w.left = left
	}
}

// newLogs returns the lines of logs not printed yet. The server appends
// lines and drops the oldest past 2000, so when the line at the last
// count is not the last one printed, the lines shifted: find it.
func (w *watcher) newLogs(logs []domain.LogEntry) []domain.LogEntry {
	if w.seen == 0 {
		return logs
	}
	if w.seen <= len(logs) && sameLog(logs[w.seen-1], w.lastLog) {
		return logs[w.seen:]
	}
	for i := len(logs) - 1; i >= 0; i-- {
		if sameLog(logs[i], w.lastLog) {
			return logs[i+1:]
		}
	}
	return logs
}

func sameLog(a, b domain.LogEntry) bool {
	return a.Time.Equal(b.Time) && a.Level == b.Level && a.Message == b.Message && a.StepID == b.StepID &&
		a.Statement == b.Statement
}

// statusLine is an execution's status, progress and phase.
func statusLine(e domain.Execution) string {
	s := fmt.Sprintf("%s %s", e.Status, percent(e.Progress))
	if e.CurrentPhase != "" {
		s += ", phase " + e.CurrentPhase
	}
	return s
}

// interrupted is the error of a watch stopped by Ctrl-C: the execution
// itself goes on.
func (w *watcher) interrupted() error {
	state := ""
	if w.last.Status != "" {
		state = fmt.Sprintf(" (%s)", statusLine(w.last))
	}
	return fmt.Errorf("stopped watching; execution %s is not affected%s. Resume with: hotswap execution watch %s %s",
		w.executionID, state, w.migrationID, w.executionID)
}

// printFigures prints the counters kept with the execution since the last
// poll: one line per instance, beside the baseline its step was watched against.
func (w *watcher) printFigures(ctx context.Context) {
	if w.quiet {
		return
	}
	m, err := w.client.ExecutionMetrics(ctx, w.migrationID, w.executionID, w.figures)
	if err != nil {
		return // figures are a bonus; the status poll reports errors
	}
	base := map[string]domain.Baseline{}
	for _, b := range m.Baselines {
		base[b.Agent+"/"+b.InstanceID] = b.Baseline
	}
	for _, s := range m.Snapshots {
		key := s.Agent + "/" + s.InstanceID
		mean, n := w.smooth.add(key, s.Sample)
		w.out.linef("    %s %s: %s", s.At.Local().Format("15:04:05"), key, smoothedLine(mean, n, base[key]))
		w.figures = max(w.figures, s.At.UnixMilli())
	}
}

func figuresLine(s domain.Sample, b domain.Baseline) string {
	line := fmt.Sprintf("latency %.2fms", s.AvgLatencyMs)
	if b.AvgLatencyMs > 0 {
		line += fmt.Sprintf(" (baseline %.2fms)", b.AvgLatencyMs)
	}
	return line + fmt.Sprintf(", p99~%.1fms, %.0f tps, %d lock waiters (longest %.0fms), lag %.1fs, cpu %.0f%%",
		s.P99LatencyMs, s.TPS, s.LockWaiters, s.LockWaitMs, s.ReplicationLagSeconds, s.CPUPercent)
}
