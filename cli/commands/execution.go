package commands

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

func executionCommand() *cli.Command {
	return &cli.Command{
		Name:    "execution",
		Aliases: []string{"exec"},
		Usage:   "follow, inspect and roll back the executions of a migration",
		Subcommands: []*cli.Command{
			{
				Name:      "list",
				Usage:     "list the executions of a migration, oldest first",
				ArgsUsage: "MIGRATION_ID",
				UsageText: `hotswap execution list MIGRATION_ID

Examples:
  hotswap execution list mig-7f8a9b1c-2d3e-4f5a-8b7c-9d0e1f2a3b4c
  hotswap execution list mig-7f8a9b1c-2d3e-4f5a-8b7c-9d0e1f2a3b4c -o json | jq -r '.executions[-1].executionId'`,
				Action: executionList,
			},
			{
				Name:      "show",
				Usage:     "show an execution: status, timings, each step with its error, then the log",
				ArgsUsage: execArgsUsage,
				UsageText: `hotswap execution show [MIGRATION] EXECUTION

EXECUTION is its id or a unique prefix of it (as git takes a short commit id);
MIGRATION, when given, is the migration's id, short id or name.

Examples:
  hotswap execution show 0c1d2e3f
  hotswap execution show add-nick exec-0c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f
  hotswap execution show 0c1d2e3f -o json | jq .steps`,
				Action: executionShow,
			},
			{
				Name:      "watch",
				Usage:     "follow an execution until it ends; exit 0 only if it succeeds",
				ArgsUsage: execArgsUsage,
				UsageText: `hotswap execution watch [MIGRATION] EXECUTION [--interval 500ms]

Prints each new log line once, a status line when the status, progress or
phase changes, the time left in a step's monitor window (every 5 s), and the
counters kept with the execution, averaged over the last 15 s (TPS, latency,
CPU: a mean, not one bursty sample). Ctrl-C stops watching; the execution goes
on. With -o json, prints only the final execution.

Exit codes:
  0  the execution Succeeded, or it was RolledBack because someone asked for
     it (hotswap execution rollback) and the rollback succeeded
  1  it Failed, or HotSwap rolled it back by itself (a step failed, a guard
     tripped): the error is printed with its SQLSTATE, DETAIL and HINT; or
     the server could not be reached
  2  usage error (bad arguments or flags)

Examples:
  hotswap execution watch 0c1d2e3f
  hotswap execution watch 0c1d2e3f -o json > result.json`,
				Flags:  []cli.Flag{intervalFlag()},
				Action: executionWatch,
			},
			{
				Name:      "rollback",
				Usage:     "roll back what an execution applied, running the migration's rollback script",
				ArgsUsage: execArgsUsage,
				UsageText: `hotswap execution rollback [MIGRATION] EXECUTION --reason TEXT

A running execution is stopped first; a succeeded one is undone. The server
waits up to 60 s for the rollback to end; a longer one goes on, to follow with
'hotswap execution watch'. Undoing a succeeded BlueGreen rollout switches the
clients back to blue: what was written to green since the switch is not on
blue, so it needs --confirm.

Examples:
  hotswap execution rollback 0c1d2e3f \
    --reason "checkout latency up since the new index"`,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "reason", Usage: "why, for the execution's log (required)"},
					&cli.BoolFlag{Name: "confirm", Usage: "switch a succeeded BlueGreen rollout back to blue, losing what was written to green since"},
				},
				Action: executionRollback,
			},
			{
				Name:      "pause",
				Usage:     "pause a running execution between phases: running steps finish, the next phase waits",
				ArgsUsage: execArgsUsage,
				UsageText: `hotswap execution pause [MIGRATION] EXECUTION [--reason TEXT]

Examples:
  hotswap execution pause 0c1d2e3f --reason "look at the canary first"`,
				Flags:  []cli.Flag{&cli.StringFlag{Name: "reason", Usage: "why, for the execution's log"}},
				Action: executionPause,
			},
			{
				Name:      "resume",
				Usage:     "resume a paused execution, optionally re-planning what is left with another strategy",
				ArgsUsage: execArgsUsage,
				UsageText: `hotswap execution resume [MIGRATION] EXECUTION [--strategy S]

With --strategy, the steps not started yet are re-planned with that strategy;
what was applied stays applied.

Examples:
  hotswap execution resume 0c1d2e3f
  hotswap execution resume 0c1d2e3f --strategy Direct`,
				Flags:  []cli.Flag{&cli.StringFlag{Name: "strategy", Usage: "re-plan what is left: " + list(domain.Strategies)}},
				Action: executionResume,
			},
			retryRollbackCommand(),
			resolveCommand(),
		},
	}
}

func executionPause(c *cli.Context) error {
	return pauseOrResume(c, "pause", func(cl *api.Client, migID, execID string) (domain.Execution, error) {
		return cl.PauseExecution(c.Context, migID, execID, api.PauseRequest{Reason: strings.TrimSpace(c.String("reason"))})
	})
}

func executionResume(c *cli.Context) error {
	var req api.ResumeRequest
	if c.IsSet("strategy") {
		req.Strategy = canonical(c.String("strategy"), domain.Strategies)
	}
	return pauseOrResume(c, "resume", func(cl *api.Client, migID, execID string) (domain.Execution, error) {
		return cl.ResumeExecution(c.Context, migID, execID, req)
	})
}

// pauseOrResume pauses or resumes the execution named by the arguments
// and prints the execution as it is now.
func pauseOrResume(c *cli.Context, verb string, do func(cl *api.Client, migID, execID string) (domain.Execution, error)) error {
	if err := checkExecArgs(c); err != nil {
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
	e, err := do(cl, migID, execID)
	if err != nil {
		return fmt.Errorf("%s execution: %w", verb, err)
	}
	return newPrinter(c).show(e, func(p printer) error {
		p.linef("Execution %s is %s (%d%%, phase %s).", e.ExecutionID, e.Status, e.Progress, orDash(e.CurrentPhase))
		return nil
	})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// intervalFlag is how often watching polls the execution.
func intervalFlag() cli.Flag {
	return &cli.DurationFlag{Name: "interval", Value: 500 * time.Millisecond, Usage: "how often to poll the execution while watching"}
}

func executionList(c *cli.Context) error {
	if err := needArgs(c, "MIGRATION_ID"); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	l, err := cl.ListExecutions(c.Context, c.Args().First())
	if err != nil {
		return fmt.Errorf("list executions: %w", err)
	}
	return newPrinter(c).show(l, func(p printer) error {
		rows := make([][]string, 0, len(l.Executions))
		for _, e := range l.Executions {
			rows = append(rows, []string{e.ExecutionID, string(e.Status), percent(e.Progress), or(e.CurrentPhase),
				yesNo(e.DryRun), string(e.Strategy), or(e.InitiatedBy), when(e.CreatedAt), span(e.StartedAt, e.CompletedAt)})
		}
		return p.table([]string{"ID", "STATUS", "PROGRESS", "PHASE", "DRY RUN", "STRATEGY", "BY", "CREATED", "DURATION"}, rows)
	})
}

func executionShow(c *cli.Context) error {
	if err := checkExecArgs(c); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	e, err := showExecution(c, cl)
	if err != nil {
		return fmt.Errorf("show execution: %w", err)
	}
	return newPrinter(c).show(e, func(p printer) error { return printExecution(p, e) })
}

// showExecution fetches the execution the arguments name.
func showExecution(c *cli.Context, cl *api.Client) (domain.Execution, error) {
	if c.NArg() == 1 {
		return cl.FindExecution(c.Context, c.Args().First())
	}
	migID, execID, err := executionRef(c, cl)
	if err != nil {
		return domain.Execution{}, err
	}
	return cl.GetExecution(c.Context, migID, execID)
}

func printExecution(p printer, e domain.Execution) error {
	if err := p.fields(executionFields(e)...); err != nil {
		return err
	}
	p.linef("")
	if err := printSteps(p, e.Steps); err != nil {
		return err
	}
	p.linef("\nLog:")
	for _, l := range e.Logs {
		printLog(p, l)
	}
	return nil
}

// executionFields is the detail view of an execution, its error last.
func executionFields(e domain.Execution) []field {
	fs := []field{
		{"ID", e.ExecutionID},
		{"Migration", e.MigrationID},
		{"Database", fmt.Sprintf("%s (%s)", e.DatabaseID, e.Environment)},
		{"Strategy", string(e.Strategy)},
		{"Dry run", yesNo(e.DryRun)},
		{"Status", string(e.Status)},
		{"Progress", percent(e.Progress)},
		{"Phase", or(e.CurrentPhase)},
		{"Initiated by", or(e.InitiatedBy)},
		{"Timeouts", timeouts(e)},
		{"Created", when(e.CreatedAt)},
		{"Started", when(e.StartedAt)},
		{"Completed", when(e.CompletedAt)},
		{"Duration", span(e.StartedAt, e.CompletedAt)},
	}
	if e.RollbackRequested || e.RollbackReason != "" {
		fs = append(fs, field{"Rollback", fmt.Sprintf("requested by %s: %s", or(e.RollbackRequestedBy), or(e.RollbackReason))},
			field{"Rolled back", when(e.RollbackCompletedAt)})
	}
	if msg := errorText(e); msg != "" {
		fs = append(fs, field{"Error", msg})
	}
	if e.Error != nil && e.Error.Detail != "" {
		fs = append(fs, field{"Detail", oneLine(e.Error.Detail)})
	}
	if e.Error != nil && e.Error.Hint != "" {
		fs = append(fs, field{"Hint", oneLine(e.Error.Hint)})
	}
	if e.Error != nil && e.Error.Statement != "" {
		fs = append(fs, field{"Statement", oneLine(e.Error.Statement)})
	}
	return fs
}

// printSteps prints the steps of an execution, one row each.
func printSteps(p printer, steps []domain.Step) error {
	rows := make([][]string, 0, len(steps))
	for _, s := range steps {
		rows = append(rows, []string{s.StepID, s.Phase, s.Agent + "/" + s.InstanceID, string(s.Direction), stepStatus(s),
			strconv.Itoa(len(s.Statements)), strconv.Itoa(s.Retries), strconv.FormatInt(s.RowsAffected, 10),
			span(s.StartedAt, s.CompletedAt), or(dbError(s.Error))})
	}
	return p.table([]string{"STEP", "PHASE", "INSTANCE", "DIRECTION", "STATUS", "STATEMENTS", "RETRIES", "ROWS",
		"DURATION", "ERROR"}, rows)
}

func stepStatus(s domain.Step) string {
	if s.AlreadyApplied {
		return string(s.Status) + " (already applied)"
	}
	return string(s.Status)
}

// printLog prints one log line: time, level, step, message, then the
// statement on its own line when the entry names one.
func printLog(p printer, l domain.LogEntry) {
	step := ""
	if l.StepID != "" {
		step = "[" + l.StepID + "] "
	}
	p.linef("%s %-5s %s%s", l.Time.UTC().Format("2006-01-02 15:04:05.000Z"), l.Level, step, l.Message)
	if l.Statement != "" {
		p.linef("    statement: %s", oneLine(l.Statement))
	}
}

func executionRollback(c *cli.Context) error {
	if err := checkExecArgs(c); err != nil {
		return err
	}
	reason := strings.TrimSpace(c.String("reason"))
	if reason == "" {
		return usageErr(c, "--reason is required: say why, for the execution's log")
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	migID, execID, err := executionRef(c, cl)
	if err != nil {
		return err
	}
	r, err := cl.RollbackExecutionWith(c.Context, migID, execID, api.RollbackRequest{Reason: reason, Confirm: c.Bool("confirm")})
	if err != nil {
		return fmt.Errorf("rollback execution: %w", err)
	}
	err = newPrinter(c).show(r, func(p printer) error { printRollback(p, migID, r); return nil })
	if err == nil && r.Status.Terminal() && r.Status != domain.ExecutionRolledBack {
		err = fmt.Errorf("rollback of execution %s ended %s: see hotswap execution show %s %s", execID, r.Status, migID, execID)
	}
	return err
}

func printRollback(p printer, migID string, r api.RollbackResponse) {
	switch {
	case r.Status == domain.ExecutionRolledBack:
		p.linef("Execution %s rolled back in %s (completed %s).", r.ExecutionID, seconds(r.RollbackDuration),
			when(r.RollbackCompletedAt))
	case !r.Status.Terminal():
		p.linef("Rollback of execution %s requested; it is still %s after the server's 60 s wait.", r.ExecutionID, r.Status)
		p.linef("Follow it: hotswap execution watch %s %s", migID, r.ExecutionID)
	}
}

// errorText is why an execution failed, with the SQLSTATE when known.
func errorText(e domain.Execution) string {
	msg := e.ErrorMessage
	if msg == "" {
		return dbError(e.Error)
	}
	if e.Error != nil && e.Error.SQLState != "" && !strings.Contains(msg, e.Error.SQLState) {
		msg += " (SQLSTATE " + e.Error.SQLState + ")"
	}
	return msg
}

// executionError is the exit message of an execution that ended without
// succeeding: its error, the rollback's reason and the failed statement.
func executionError(e domain.Execution) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s ended %s", runKind(e), e.ExecutionID, e.Status)
	if msg := errorText(e); msg != "" {
		b.WriteString(": " + msg)
	}
	if e.RollbackReason != "" && e.RollbackReason != e.ErrorMessage {
		fmt.Fprintf(&b, "\n  rollback requested by %s: %s", or(e.RollbackRequestedBy), e.RollbackReason)
	}
	if e.Error != nil && e.Error.Detail != "" {
		fmt.Fprintf(&b, "\n  detail: %s", oneLine(e.Error.Detail))
	}
	if e.Error != nil && e.Error.Hint != "" {
		fmt.Fprintf(&b, "\n  hint: %s", oneLine(e.Error.Hint))
	}
	if e.Error != nil && e.Error.Statement != "" {
		fmt.Fprintf(&b, "\n  statement: %s", oneLine(e.Error.Statement))
	}
	return errors.New(b.String())
}

// runKind names an execution in messages.
func runKind(e domain.Execution) string {
	if e.DryRun {
		return "dry run"
	}
	return "execution"
}

// dbError is a database error with its SQLSTATE; empty for nil.
func dbError(e *domain.DBError) string {
	switch {
	case e == nil:
		return ""
	case e.SQLState != "":
		return oneLine(e.Message) + " (SQLSTATE " + e.SQLState + ")"
	}
	return oneLine(e.Message)
}

// timeouts summarises an execution's lock, statement and overall timeouts.
func timeouts(e domain.Execution) string {
	stmt := "none (the execution's)"
	if e.StatementTimeoutMs > 0 {
		stmt = (time.Duration(e.StatementTimeoutMs) * time.Millisecond).String()
	}
	return fmt.Sprintf("lock %s, statement %s, execution %s", time.Duration(e.LockTimeoutMs)*time.Millisecond,
		stmt, time.Duration(e.TimeoutSeconds)*time.Second)
}

// span is how long something ran, "-" unless it started and ended.
func span(start, end time.Time) string {
	if start.IsZero() || end.IsZero() {
		return "-"
	}
	return end.Sub(start).Round(time.Millisecond).String()
}

// millis formats a duration in (fractional) milliseconds.
func millis(ms float64) string {
	d := time.Duration(ms * float64(time.Millisecond))
	if d < time.Millisecond {
		return d.Round(time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// seconds formats a duration in (fractional) seconds.
func seconds(s float64) string { return millis(s * 1000) }

func percent(n int) string { return strconv.Itoa(n) + "%" }

// oneLine collapses the whitespace of SQL or a message, so it fits a line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
