package commands

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

func migrationCommand() *cli.Command {
	return &cli.Command{
		Name:    "migration",
		Aliases: []string{"mig"},
		Usage:   "create and manage schema migrations",
		Subcommands: append(approvalCommands(), []*cli.Command{
			{
				Name:  "create",
				Usage: "create a migration (status Draft); the server parses both scripts",
				UsageText: `hotswap migration create --name NAME --database DB --up FILE --down FILE [options]

The scripts are read from files; - reads one of them from stdin.

Examples:
  hotswap migration create --name add_users_email_index --database app \
    --up up.sql --down down.sql --risk Low --tag index
  cat up.sql | hotswap migration create --name add_orders_note --database app --up - --down down.sql
  hotswap migration create --name add_orders_flag --database app --up up.sql --down down.sql \
    --never-free fail --terminate-blockers-after 30s`,
				Flags:  migrationSpecFlags(),
				Action: migrationCreate,
			},
			{
				Name:  "list",
				Usage: "list migrations, oldest first, one page at a time",
				UsageText: `hotswap migration list [--status STATUS] [--database DB] [--limit N] [--offset N]

Examples:
  hotswap migration list --database app
  hotswap migration list --status PendingApproval -o json`,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "status", Usage: "only this status: " + list(domain.MigrationStatuses)},
					&cli.StringFlag{Name: "database", Aliases: []string{"db"}, Usage: "only migrations of this database (id or name)"},
					&cli.IntFlag{Name: "limit", Usage: "at most this many (1-1000)", DefaultText: "20"},
					&cli.IntFlag{Name: "offset", Usage: "skip this many", DefaultText: "0"},
				},
				Action: migrationList,
			},
			{
				Name:      "show",
				Usage:     "show a migration, scripts included",
				ArgsUsage: "ID",
				UsageText: `hotswap migration show ID

Examples:
  hotswap migration show mig-7f8a9b1c-2d3e-4f5a-8b7c-9d0e1f2a3b4c
  hotswap migration show mig-7f8a9b1c-2d3e-4f5a-8b7c-9d0e1f2a3b4c -o json | jq -r .migrationScript`,
				Action: migrationShow,
			},
			{
				Name:      "plan",
				Usage:     "show the phases and steps a strategy would follow on the migration's database (changes nothing)",
				ArgsUsage: "ID",
				UsageText: `hotswap migration plan ID [--strategy S]

The plan is made from the roles and replication links the agents report:
replicas that take DDL first, the master last, verify steps on physical standbys.
Then each statement of the script: the lock it takes and for how long,
whether it runs in the step's transaction, the work it does on the rows
(scan, build, rewrite...) and an estimated duration from the table's live
size (an estimate: see docs; "-" when no agent could read the catalog).
ID is the migration's id, short id or name.

Examples:
  hotswap migration plan add_nick2
  hotswap migration plan mig-7f8a9b1c-2d3e-4f5a-8b7c-9d0e1f2a3b4c --strategy Phased
  hotswap migration plan mig-7f8a9b1c-2d3e-4f5a-8b7c-9d0e1f2a3b4c --strategy Canary -o json`,
				Flags: []cli.Flag{&cli.StringFlag{Name: "strategy", Usage: "one of " + list(domain.Strategies) + " (default: the migration's)"},
					&cli.StringFlag{Name: "blue-green", Usage: "BlueGreen: green=AGENT/INSTANCE,pooler=AGENT/POOLER"}},
				Action: migrationPlan,
			},
			{
				Name:      "validate",
				Usage:     "judge a migration against its database's live catalog, through the master's agent (changes nothing)",
				ArgsUsage: "ID|NAME",
				UsageText: `hotswap migration validate ID|NAME [--database DB]

The objects the script touches are looked up on the master: missing tables,
names already taken, duplicate indexes, table sizes (an index build on a small
table is no warning), free disk against rewrites, replica lag, and a duration
estimated from the sizes. With no agent connected, the static lint answers.
Exit status 1 when the migration is not valid.

Examples:
  hotswap migration validate add_users_email_index --database app
  hotswap migration validate mig-7f8a9b1c-2d3e-4f5a-8b7c-9d0e1f2a3b4c -o json`,
				Flags:  []cli.Flag{&cli.StringFlag{Name: "database", Aliases: []string{"db"}, Usage: "the database of NAME (id or name)"}},
				Action: migrationValidate,
			},
			{
				Name:      "update",
				Usage:     "change a migration that has not started: only the fields whose flags are given",
				ArgsUsage: "ID",
				UsageText: `hotswap migration update ID [--up FILE] [--down FILE] [--risk RISK] [options]

--tag and --depends-on, when given, replace the whole list.

Examples:
  hotswap migration update mig-7f8a9b1c-2d3e-4f5a-8b7c-9d0e1f2a3b4c --up up.sql
  hotswap migration update mig-7f8a9b1c-2d3e-4f5a-8b7c-9d0e1f2a3b4c --risk High --strategy Canary`,
				Flags:  migrationSpecFlags(),
				Action: migrationUpdate,
			},
			{
				Name:      "execute",
				Usage:     "run a migration on its database, or dry-run it; prints the plan and the execution id",
				ArgsUsage: "ID",
				UsageText: `hotswap migration execute ID [--strategy STRATEGY] [--environment ENV] [--dry-run] [--queue]
    [--lock-timeout 500ms] [--statement-timeout 0] [--timeout 30m] [--watch [--interval 500ms]]

The server answers once the execution is recorded; the agent of the database's
instances then runs its steps. Every migration it depends on must have
succeeded first. While another execution holds the database, the server
refuses (409) unless --queue is given. --environment refuses to run unless the
database is in that environment. --watch follows the execution like
'hotswap execution watch' and exits 0 only if it succeeds; for a dry run,
success means the script would apply.

Examples:
  hotswap migration execute mig-7f8a9b1c-2d3e-4f5a-8b7c-9d0e1f2a3b4c --dry-run --watch
  hotswap migration execute mig-7f8a9b1c-2d3e-4f5a-8b7c-9d0e1f2a3b4c --environment Production --strategy Direct --watch
  hotswap migration execute mig-7f8a9b1c-2d3e-4f5a-8b7c-9d0e1f2a3b4c --queue --lock-timeout 2s --timeout 1h
  hotswap migration execute mig-7f8a9b1c-2d3e-4f5a-8b7c-9d0e1f2a3b4c --strategy Canary --selector env=prod,service=billing --watch`,
				Flags:  executeFlags(),
				Action: migrationExecute,
			},
			{
				Name:      "delete",
				Usage:     "remove a migration that has not started and that nothing depends on",
				ArgsUsage: "ID",
				UsageText: `hotswap migration delete ID

Examples:
  hotswap migration delete mig-7f8a9b1c-2d3e-4f5a-8b7c-9d0e1f2a3b4c`,
				Action: migrationDelete,
			},
			migrationImportCommand(),
		}...),
	}
}

func migrationSpecFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "name", Usage: "lowercase letters, digits and '_'"},
		&cli.StringFlag{Name: "database", Aliases: []string{"db"}, Usage: "target database (id or name)"},
		&cli.StringFlag{Name: "up", TakesFile: true, Usage: "file with the forward SQL script (- for stdin)"},
		&cli.StringFlag{Name: "down", TakesFile: true, Usage: "file with the rollback SQL script (- for stdin)"},
		&cli.StringFlag{Name: "strategy", Usage: "one of " + list(domain.Strategies) + " (default Phased)"},
		&cli.StringFlag{Name: "risk", Usage: "one of " + list(domain.RiskLevels) + " (default: the risk the server computes from the script; " +
			"it may be raised, never lowered); Medium and High need approval"},
		&cli.StringFlag{Name: "risk-reason", Usage: "why the risk is set below the computed one (Admin only)"},
		&cli.StringSliceFlag{Name: "tag", Usage: "tag (repeatable)"},
		&cli.StringSliceFlag{Name: "depends-on", Usage: "id of a migration of the same database that must run first (repeatable)"},
		&cli.StringFlag{Name: "description", Usage: "free text"},
		&cli.StringFlag{Name: "never-free", Usage: "when a table the script locks is never free for as long as the lock timeout: " +
			"wait (outside the lock queue, until the execution's timeout; the default) or fail (at once, with the figures)"},
		&cli.DurationFlag{Name: "terminate-blockers-after", Usage: "terminate the sessions whose transaction has held a table " +
			"the script needs for longer than this (at least 1s; PostgreSQL), recording who in the execution's log (default: never)"},
		&cli.BoolFlag{Name: "terminate-privileged", Usage: "with --terminate-blockers-after, terminate superuser and replication sessions too"},
	}
}

func migrationCreate(c *cli.Context) error {
	if err := needArgs(c); err != nil {
		return err
	}
	if err := requireFlags(c, "name", "database", "up", "down"); err != nil {
		return err
	}
	spec, err := migrationSpec(c, domain.MigrationSpec{})
	if err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	m, err := cl.CreateMigration(c.Context, spec)
	if err != nil {
		return fmt.Errorf("create migration: %w", withFlagNames(c, err, migrationFlagOf))
	}
	return showMigration(c, cl, m)
}

func migrationUpdate(c *cli.Context) error {
	if err := needArgs(c, "ID"); err != nil {
		return err
	}
	if !anySet(c, migrationSpecFlags()) {
		return usageErr(c, "nothing to update: give the flags of the fields to change")
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	cur, err := cl.GetMigration(c.Context, c.Args().First())
	if err != nil {
		return fmt.Errorf("update migration: %w", err)
	}
	spec, err := migrationSpec(c, specOfMigration(cur))
	if err != nil {
		return err
	}
	m, err := cl.UpdateMigration(c.Context, cur.MigrationID, spec)
	if err != nil {
		return fmt.Errorf("update migration: %w", withFlagNames(c, err, migrationFlagOf))
	}
	return showMigration(c, cl, m)
}

// specOfMigration is the writable part of a migration. A risk that is the
// computed one is left out, so the server computes it again for the new
// script; a risk the user raised is kept.
func specOfMigration(m domain.Migration) domain.MigrationSpec {
	risk := m.RiskLevel
	if m.ComputedRisk != "" && m.RiskLevel == m.ComputedRisk {
		risk = ""
	}
	return domain.MigrationSpec{Name: m.Name, Description: m.Description, TargetDatabaseID: m.TargetDatabaseID,
		MigrationScript: m.MigrationScript, RollbackScript: m.RollbackScript, Strategy: m.Strategy,
		RiskLevel: risk, EstimatedDuration: m.EstimatedDuration, Dependencies: m.Dependencies, Tags: m.Tags,
		LockPolicy: m.LockPolicy}
}

// migrationSpec is base with the fields whose flags are set, scripts read
// from their files.
func migrationSpec(c *cli.Context, base domain.MigrationSpec) (domain.MigrationSpec, error) {
	spec := base
	if c.String("up") == "-" && c.String("down") == "-" {
		return spec, usageErr(c, "--up and --down cannot both read stdin: give one of them a file")
	}
	for _, s := range []struct {
		flag string
		dst  *string
	}{{"up", &spec.MigrationScript}, {"down", &spec.RollbackScript}} {
		if !c.IsSet(s.flag) {
			continue
		}
		raw, err := readInput(c, s.flag, c.String(s.flag))
		if err != nil {
			return spec, err
		}
		*s.dst = string(raw)
	}
	setString(c, "name", &spec.Name)
	setString(c, "description", &spec.Description)
	setString(c, "database", &spec.TargetDatabaseID)
	if c.IsSet("strategy") {
		spec.Strategy = canonical(c.String("strategy"), domain.Strategies)
	}
	if c.IsSet("risk") {
		spec.RiskLevel = canonical(c.String("risk"), domain.RiskLevels)
	}
	setString(c, "risk-reason", &spec.RiskReason)
	if c.IsSet("tag") {
		spec.Tags = c.StringSlice("tag")
	}
	if c.IsSet("depends-on") {
		spec.Dependencies = c.StringSlice("depends-on")
	}
	lockPolicyFlags(c, &spec.LockPolicy)
	return spec, nil
}

// lockPolicyFlags sets the lock policy's fields whose flags are set.
func lockPolicyFlags(c *cli.Context, p *domain.LockPolicy) {
	if c.IsSet("never-free") {
		p.NeverFree = domain.NeverFreePolicy(strings.ToLower(c.String("never-free")))
	}
	if c.IsSet("terminate-blockers-after") {
		p.TerminateBlockersAfterMs = c.Duration("terminate-blockers-after").Milliseconds()
	}
	if c.IsSet("terminate-privileged") {
		p.TerminatePrivileged = c.Bool("terminate-privileged")
	}
}

// migrationFlagOf names the flag that sets an API field of a migration.
var migrationFlagOf = map[string]string{
	"name": "name", "description": "description", "targetDatabaseId": "database", "migrationScript": "up",
	"rollbackScript": "down", "strategy": "strategy", "riskLevel": "risk", "riskReason": "risk-reason", "tags": "tag", "dependencies": "depends-on",
	"lockPolicy.neverFree": "never-free", "lockPolicy.terminateBlockersAfterMs": "terminate-blockers-after",
	"lockPolicy.terminatePrivileged": "terminate-privileged",
}

func migrationList(c *cli.Context) error {
	if err := needArgs(c); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	f := api.ListMigrationsRequest{Status: canonical(c.String("status"), domain.MigrationStatuses),
		Database: c.String("database"), Limit: c.Int("limit"), Offset: c.Int("offset")}
	l, err := cl.ListMigrations(c.Context, f)
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	return newPrinter(c).show(l, func(p printer) error { return printMigrationList(p, l) })
}

func printMigrationList(p printer, l api.MigrationList) error {
	rows := make([][]string, 0, len(l.Migrations))
	for _, m := range l.Migrations {
		rows = append(rows, []string{m.MigrationID, m.Name, or(m.TargetDatabase), string(m.Status), string(m.Strategy),
			string(m.RiskLevel), approval(m.RequiresApproval), when(m.CreatedAt)})
	}
	err := p.table([]string{"ID", "NAME", "DATABASE", "STATUS", "STRATEGY", "RISK", "APPROVAL", "CREATED"}, rows)
	if err != nil {
		return err
	}
	if shown := l.Offset + len(l.Migrations); shown < l.Total {
		p.linef("\nShowing %d-%d of %d; next page: --offset %d", l.Offset+1, shown, l.Total, shown)
	}
	return nil
}

func migrationShow(c *cli.Context) error {
	if err := needArgs(c, "ID"); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	m, err := cl.GetMigration(c.Context, c.Args().First())
	if err != nil {
		return fmt.Errorf("show migration: %w", err)
	}
	return showMigration(c, cl, m)
}

// showMigration prints a migration; the table names its database too.
func showMigration(c *cli.Context, cl *api.Client, m domain.Migration) error {
	return newPrinter(c).show(m, func(p printer) error {
		target := m.TargetDatabaseID
		if db, err := cl.GetDatabase(c.Context, target); err == nil {
			target = db.Name + " (" + db.DatabaseID + ")"
		}
		return printMigration(p, m, target)
	})
}

func printMigration(p printer, m domain.Migration, target string) error {
	err := p.fields(
		field{"ID", m.MigrationID},
		field{"Name", m.Name},
		field{"Database", target},
		field{"Status", string(m.Status)},
		field{"Strategy", string(m.Strategy)},
		field{"Risk", fmt.Sprintf("%s (approval %s)", m.RiskLevel, approval(m.RequiresApproval))},
		field{"Computed risk", orDash(string(m.ComputedRisk))},
		field{"Description", or(m.Description)},
		field{"Tags", list(m.Tags)},
		field{"Depends on", list(m.Dependencies)},
		field{"Lock policy", lockPolicyText(m.LockPolicy)},
		field{"Created", when(m.CreatedAt) + " by " + or(m.CreatedBy)},
		field{"Updated", when(m.UpdatedAt)},
	)
	if err != nil {
		return err
	}
	printFindings(p, m.Findings, m.IgnoredFindings)
	p.linef("\n-- up (migrationScript)\n%s", strings.TrimRight(m.MigrationScript, "\n"))
	p.linef("\n-- down (rollbackScript)\n%s", strings.TrimRight(m.RollbackScript, "\n"))
	return nil
}

// lockPolicyText says what a migration's steps do with a table never
// free for long enough, and whom they may terminate.
func lockPolicyText(p domain.LockPolicy) string {
	never := string(domain.NeverFreeWait)
	if p.NeverFree != "" {
		never = string(p.NeverFree)
	}
	out := "never free: " + never + "; terminate blockers: "
	switch {
	case p.TerminateBlockersAfterMs == 0:
		return out + "never"
	case p.TerminatePrivileged:
		return out + "after " + p.TerminateAfter().String() + ", superuser and replication sessions too"
	}
	return out + "after " + p.TerminateAfter().String()
}

func migrationDelete(c *cli.Context) error {
	if err := needArgs(c, "ID"); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	if err := cl.DeleteMigration(c.Context, c.Args().First()); err != nil {
		return fmt.Errorf("delete migration: %w", err)
	}
	return done(c, "Migration %s deleted.", c.Args().First())
}

// approval says whether a migration needs approval before it runs.
func approval(required bool) string {
	if required {
		return "required"
	}
	return "not needed"
}

func executeFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "strategy", Usage: "one of " + list(domain.Strategies) + " (default: the migration's)"},
		&cli.StringFlag{Name: "environment", Aliases: []string{"env"},
			Usage: "refuse unless the database is in this environment: " + list(domain.Environments)},
		&cli.BoolFlag{Name: "dry-run", Usage: "run the script in a transaction that is rolled back " +
			"(statements that cannot run in one are only checked): nothing is changed"},
		&cli.BoolFlag{Name: "queue", Usage: "wait for the database while another execution holds it, instead of a refusal"},
		&cli.BoolFlag{Name: "accept-blind-lock-guard", Usage: "run although an agent cannot see other sessions " +
			"(its role lacks pg_monitor): its DDL may queue behind a blocker; recorded in the execution's log"},
		&cli.DurationFlag{Name: "lock-timeout", DefaultText: "500ms",
			Usage: "how long each statement may wait for a lock before it gives up and retries (1ms-1m)"},
		&cli.DurationFlag{Name: "statement-timeout", DefaultText: "0: only the execution's timeout",
			Usage: "how long each statement may run"},
		&cli.DurationFlag{Name: "timeout", DefaultText: "the server's, 30m",
			Usage: "past this, the execution stops and what it applied is rolled back"},
		&cli.BoolFlag{Name: "watch", Aliases: []string{"w"}, Usage: "follow the execution until it ends; exit 0 only if it succeeds"},
		intervalFlag(),
		&cli.StringFlag{Name: "selector", Usage: "roll out over every database with these labels, in Canary waves: env=prod,service=billing"},
		&cli.StringFlag{Name: "blue-green", Usage: "BlueGreen: green=AGENT/INSTANCE,pooler=AGENT/POOLER"},
		&cli.StringFlag{Name: "shadow-workload", Usage: "Shadow: a file of read-only SQL to replay (default: captured from the master)"},
		&cli.IntFlag{Name: "shadow-iterations", DefaultText: "20", Usage: "Shadow: passes over the workload before and after"},
		&cli.Float64Flag{Name: "shadow-max-p95", DefaultText: "1.5", Usage: "Shadow: go on only if p95 latency grows at most this many times (plus 2 ms of slack)"},
		&cli.DurationFlag{Name: "monitor-window", DefaultText: "the server's, 2m",
			Usage: "watch each step this long against its baseline before going on (0 for none)"},
		&cli.DurationFlag{Name: "baseline-window", DefaultText: "1m", Usage: "the samples before each step that make its baseline"},
		&cli.DurationFlag{Name: "sample-interval", DefaultText: "250ms", Usage: "the agents' sampling while a step runs or is watched"},
		&cli.Float64Flag{Name: "max-latency-factor", DefaultText: "1.5", Usage: "roll back when latency exceeds the baseline this many times"},
		&cli.DurationFlag{Name: "max-lock-wait", DefaultText: "5s", Usage: "roll back when an application session waits this long on a lock"},
		&cli.Float64Flag{Name: "max-cpu", DefaultText: "90", Usage: "roll back when host CPU stays over this percent for --max-cpu-for"},
		&cli.DurationFlag{Name: "max-cpu-for", DefaultText: "2m", Usage: "how long CPU must stay over --max-cpu"},
		&cli.DurationFlag{Name: "max-replication-lag", DefaultText: "60s", Usage: "pause while a replica lags more than this; resume under half"},
	}
}

// monitorSettings builds the monitoring overrides from the flags, nil when
// none is given.
func monitorSettings(c *cli.Context) (*domain.MonitorSettings, error) {
	m := &domain.MonitorSettings{}
	set := false
	durations := []struct {
		flag string
		unit time.Duration
		dst  func(int64)
	}{
		{"monitor-window", time.Second, func(v int64) {
			m.MonitorWindowSeconds = int(v)
			if v == 0 {
				m.MonitorWindowSeconds = -1
			}
		}},
		{"baseline-window", time.Second, func(v int64) { m.BaselineWindowSeconds = int(v) }},
		{"sample-interval", time.Millisecond, func(v int64) { m.SampleIntervalMs = int(v) }},
		{"max-lock-wait", time.Millisecond, func(v int64) { m.Thresholds.LockWaitMs = float64(v) }},
		{"max-cpu-for", time.Millisecond, func(v int64) { m.Thresholds.CPUForMs = v }},
		{"max-replication-lag", time.Second, func(v int64) { m.Thresholds.ReplicationLagSeconds = float64(v) }},
	}
	for _, d := range durations {
		if !c.IsSet(d.flag) {
			continue
		}
		v, err := durationIn(c, d.flag, d.unit, 0)
		if err != nil {
			return nil, err
		}
		d.dst(v)
		set = true
	}
	if c.IsSet("max-latency-factor") {
		m.Thresholds.LatencyFactor, set = c.Float64("max-latency-factor"), true
	}
	if c.IsSet("max-cpu") {
		m.Thresholds.CPUPercent, set = c.Float64("max-cpu"), true
	}
	if !set {
		return nil, nil
	}
	return m, nil
}

// executeFlagOf names the flag that sets a field of an execute request.
var executeFlagOf = map[string]string{
	"strategy": "strategy", "environment": "environment", "lockTimeoutMs": "lock-timeout",
	"statementTimeoutMs": "statement-timeout", "timeoutSeconds": "timeout",
	"monitoring.thresholds": "max-latency-factor, max-cpu, ...", "monitoring.baselineWindowSeconds": "baseline-window",
	"monitoring.monitorWindowSeconds": "monitor-window", "monitoring.sampleIntervalMs": "sample-interval",
	"selector": "selector", "blueGreen": "blue-green", "shadow": "shadow-workload", "shadow.workload": "shadow-workload",
}

func migrationExecute(c *cli.Context) error {
	if err := needArgs(c, "ID"); err != nil {
		return err
	}
	if err := checkInterval(c); err != nil {
		return err
	}
	req, err := executeRequest(c)
	if err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	r, err := cl.ExecuteMigration(c.Context, c.Args().First(), req)
	if err != nil {
		return fmt.Errorf("execute migration: %w", withFlagNames(c, err, executeFlagOf))
	}
	if !c.Bool("watch") {
		return newPrinter(c).show(r, func(p printer) error { return printExecute(p, r, req.DryRun, true) })
	}
	w := newWatcher(c, cl, r.MigrationID, r.ExecutionID)
	if !w.quiet {
		if err := printExecute(w.out, r, req.DryRun, false); err != nil {
			return err
		}
		w.out.linef("")
	}
	return watchToEnd(c, w)
}

// executeRequest builds the request from the flags; the ones not given are
// left to the server's defaults.
func executeRequest(c *cli.Context) (api.ExecuteRequest, error) {
	req := api.ExecuteRequest{DryRun: c.Bool("dry-run"), Queue: c.Bool("queue"), AcceptBlindLockGuard: c.Bool("accept-blind-lock-guard")}
	if c.IsSet("strategy") {
		req.Strategy = canonical(c.String("strategy"), domain.Strategies)
	}
	if c.IsSet("environment") {
		req.Environment = canonical(c.String("environment"), domain.Environments)
	}
	var err error
	if req.LockTimeoutMs, err = durationIn(c, "lock-timeout", time.Millisecond, time.Millisecond); err != nil {
		return req, err
	}
	if req.StatementTimeoutMs, err = durationIn(c, "statement-timeout", time.Millisecond, 0); err != nil {
		return req, err
	}
	if req.TimeoutSeconds, err = durationIn(c, "timeout", time.Second, time.Second); err != nil {
		return req, err
	}
	if req.Monitoring, err = monitorSettings(c); err != nil {
		return req, err
	}
	if c.IsSet("selector") {
		if req.Selector, err = parseSelector(c, c.String("selector")); err != nil {
			return req, err
		}
	}
	if c.IsSet("blue-green") {
		kv, err := parseSelector(c, c.String("blue-green"))
		if err != nil || kv["green"] == "" || kv["pooler"] == "" {
			return req, usageErr(c, "--blue-green %q: want green=AGENT/INSTANCE,pooler=AGENT/POOLER", c.String("blue-green"))
		}
		req.BlueGreen = &api.BlueGreenRequest{Green: kv["green"], Pooler: kv["pooler"]}
	}
	return req, shadowFlags(c, &req)
}

// shadowFlags reads the Shadow flags; the workload file is sent as text.
func shadowFlags(c *cli.Context, req *api.ExecuteRequest) error {
	if !c.IsSet("shadow-workload") && !c.IsSet("shadow-iterations") && !c.IsSet("shadow-max-p95") {
		return nil
	}
	req.Shadow = &api.ShadowRequest{Iterations: c.Int("shadow-iterations"), MaxP95Factor: c.Float64("shadow-max-p95")}
	if path := c.String("shadow-workload"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return usageErr(c, "--shadow-workload: %v", err)
		}
		req.Shadow.Workload = string(b)
	}
	return nil
}

// parseSelector reads "k=v,k=v".
func parseSelector(c *cli.Context, s string) (map[string]string, error) {
	sel := map[string]string{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || k == "" {
			return nil, usageErr(c, "--selector %q: want key=value[,key=value...]", s)
		}
		sel[k] = v
	}
	return sel, nil
}

// durationIn is a duration flag in whole units, rounded up; 0 when the flag
// is not given. A value under least is a usage error.
func durationIn(c *cli.Context, name string, unit, least time.Duration) (int64, error) {
	if !c.IsSet(name) {
		return 0, nil
	}
	d := c.Duration(name)
	switch {
	case d < 0:
		return 0, usageErr(c, "--%s %s: must not be negative", name, d)
	case d < least:
		return 0, usageErr(c, "--%s %s: want at least %s", name, d, least)
	}
	return int64((d + unit - 1) / unit), nil
}

// printExecute prints a new execution: its plan, and how to follow it.
func printExecute(p printer, r api.ExecuteResponse, dryRun, hint bool) error {
	kind := "Execution"
	if dryRun {
		kind = "Dry run"
	}
	p.linef("%s %s of migration %s: %s", kind, r.ExecutionID, r.MigrationID, r.Status)
	if dryRun {
		p.linef("The script runs in a transaction that is rolled back: nothing is changed.")
	}
	if r.Queued {
		p.linef("Queued: it waits while another execution holds the database.")
	}
	for _, w := range r.Warnings {
		p.linef("WARNING: %s", w)
	}
	p.linef("\nPlan (%s):", r.Plan.Strategy)
	for _, line := range r.Plan.Explanation {
		p.linef("  %s", line)
	}
	p.linef("")
	rows := make([][]string, 0, len(r.Plan.Steps))
	for _, s := range r.Plan.Steps {
		rows = append(rows, []string{s.StepID, s.Phase, s.Agent + "/" + s.InstanceID, string(s.Direction)})
	}
	if err := p.table([]string{"STEP", "PHASE", "INSTANCE", "DIRECTION"}, rows); err != nil {
		return err
	}
	if hint {
		p.linef("\nFollow it: hotswap execution watch %s %s", r.MigrationID, r.ExecutionID)
	}
	return nil
}

func migrationPlan(c *cli.Context) error {
	if err := needArgs(c, "ID"); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	var strategy domain.Strategy
	if c.IsSet("strategy") {
		strategy = canonical(c.String("strategy"), domain.Strategies)
	}
	var bg *api.BlueGreenRequest
	if c.IsSet("blue-green") {
		kv, err := parseSelector(c, c.String("blue-green"))
		if err != nil || kv["green"] == "" || kv["pooler"] == "" {
			return usageErr(c, "--blue-green %q: want green=AGENT/INSTANCE,pooler=AGENT/POOLER", c.String("blue-green"))
		}
		bg = &api.BlueGreenRequest{Green: kv["green"], Pooler: kv["pooler"]}
	}
	r, err := cl.PlanMigrationWith(c.Context, c.Args().First(), strategy, bg)
	if err != nil {
		return fmt.Errorf("plan migration: %w", withFlagNames(c, err, executeFlagOf))
	}
	v, err := cl.ValidateMigration(c.Context, r.MigrationID, api.ValidateRequest{})
	switch {
	case errors.Is(err, api.ErrForbidden):
		v.LiveReason = "your role may not validate migrations, which reads the statements' effects"
	case err != nil:
		return fmt.Errorf("plan migration: read the statements' effects: %w", err)
	}
	out := planOutput{PlanResponse: r, Statements: v.Statements, TransactionNote: v.TransactionNote, Live: v.Live,
		LiveReason: v.LiveReason, EstimatedDuration: v.EstimatedDuration}
	return newPrinter(c).show(out, func(p printer) error { return printPlan(p, out) })
}

// planOutput is what `migration plan` prints: the plan, and what each
// statement does, from the validation.
type planOutput struct {
	api.PlanResponse
	Statements        []api.StatementReport `json:"statements"`
	TransactionNote   string                `json:"transactionNote,omitempty"`
	Live              bool                  `json:"live"`
	LiveReason        string                `json:"liveReason,omitempty"`
	EstimatedDuration int                   `json:"estimatedDuration"`
}

func printPlan(p printer, out planOutput) error {
	p.linef("Plan (%s):", out.Plan.Strategy)
	for _, line := range out.Plan.Explanation {
		p.linef("  %s", line)
	}
	p.linef("")
	var rows [][]string
	for _, s := range out.Plan.Steps {
		rows = append(rows, []string{s.StepID, s.Phase, s.Kind, s.Agent + "/" + s.InstanceID, orDash(s.Verifies)})
	}
	if err := p.table([]string{"STEP", "PHASE", "KIND", "INSTANCE", "VERIFIES"}, rows); err != nil {
		return err
	}
	p.linef("\nStatements (each step runs them all):")
	rows = rows[:0]
	for _, s := range out.Statements {
		rows = append(rows, []string{strconv.Itoa(s.Index), clip(oneLine(s.SQL), 60), or(s.Lock), or(s.LockHeld),
			yesNo(s.InTransaction), s.Work, or(s.Table), size(s.TableBytes), estimateText(s.EstimatedSeconds)})
	}
	if err := p.table([]string{"#", "STATEMENT", "LOCK", "HELD", "IN TX", "WORK", "TABLE", "SIZE", "EST. DURATION"}, rows); err != nil {
		return err
	}
	if out.TransactionNote != "" {
		p.linef("Not in one transaction: %s", out.TransactionNote)
	}
	if !out.Live {
		p.linef("Sizes and durations unknown: %s", or(out.LiveReason))
	}
	return nil
}

// estimateText is an estimated duration, "-" when unknown.
func estimateText(secs float64) string {
	if secs < 0 {
		return "-"
	}
	if secs < 1 {
		return "< 1s (estimate)"
	}
	return seconds(secs) + " (estimate)"
}

// size is a byte count for people, "-" when unknown.
func size(b int64) string {
	switch {
	case b < 0:
		return "-"
	case b < 1<<20:
		return fmt.Sprintf("%d kB", (b+1023)/1024)
	case b < 1<<30:
		return fmt.Sprintf("%.1f MB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%.1f GB", float64(b)/(1<<30))
}

// clip shortens s to n characters, marking the cut.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
