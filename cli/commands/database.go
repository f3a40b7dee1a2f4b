package commands

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/hotswap-db/hotswap/internal/api"
	"github.com/hotswap-db/hotswap/internal/domain"
)

func databaseCommand() *cli.Command {
	return &cli.Command{
		Name:    "database",
		Aliases: []string{"db"},
		Usage:   "register databases and their instances",
		Subcommands: []*cli.Command{
			{
				Name:  "register",
				Usage: "register a database: its engine, environment and instances (by agent reference)",
				UsageText: `hotswap database register --name NAME --type TYPE --environment ENV --instance AGENT/INSTANCE=ROLE... [--label KEY=VALUE]...
hotswap database register --file spec.json

Instances are named by reference: the agent serving them and the instance id in
that agent's config. Connection strings and passwords stay in the agent's config.

Examples:
  hotswap database register --name app --type PostgreSQL --environment Production \
    --instance host1/main=Master --instance host2/main=AsyncReplica --label team=payments
  hotswap database register --file app.json`,
				Flags:  databaseSpecFlags(),
				Action: databaseRegister,
			},
			{
				Name:  "list",
				Usage: "list the registered databases",
				UsageText: `hotswap database list

Examples:
  hotswap database list
  hotswap -o json database list`,
				Action: databaseList,
			},
			{
				Name:      "show",
				Usage:     "show a database and its instances",
				ArgsUsage: "ID|NAME",
				UsageText: `hotswap database show ID|NAME

Examples:
  hotswap database show app
  hotswap database show app -o json > app.json`,
				Action: databaseShow,
			},
			{
				Name:      "update",
				Usage:     "change a database: flags change those fields, --file replaces the whole spec",
				ArgsUsage: "ID|NAME",
				UsageText: `hotswap database update ID|NAME [--file spec.json] [--name ...] [--instance ...]...

--instance, when given, replaces the whole list of instances; --label adds or
changes one label.

Examples:
  hotswap database update app --instance host1/main=Master --instance host3/main=SyncReplica
  hotswap database update app --file app.json`,
				Flags:  databaseSpecFlags(),
				Action: databaseUpdate,
			},
			{
				Name:      "delete",
				Usage:     "remove a database that no migration targets, or (--force) with its finished migrations",
				ArgsUsage: "ID|NAME",
				UsageText: `hotswap database delete ID|NAME [--force]

Without --force, a database that migrations target is kept: delete the
migrations that have not run first. With --force, the database is removed
with every migration that targets it and their executions, once none of them
is running (a running one is refused: wait for it, or roll it back). What
happened stays in the audit log (hotswap audit list), and each instance's
history table in the database itself still records what was applied; the
database's schema is not touched.

Examples:
  hotswap database delete app
  hotswap database delete app --force`,
				Flags: []cli.Flag{&cli.BoolFlag{Name: "force",
					Usage: "also delete its migrations and their executions (none may be running; the audit log keeps them)"}},
				Action: databaseDelete,
			},
			{
				Name:      "health",
				Usage:     "show the live state of a database's instances, as their agents report it",
				ArgsUsage: "ID|NAME",
				UsageText: `hotswap database health ID|NAME

Examples:
  hotswap database health app`,
				Action: databaseHealth,
			},
			{
				Name:      "history",
				Usage:     "show each instance's migration history table and any drift from the recorded executions",
				ArgsUsage: "ID|NAME",
				UsageText: `hotswap database history ID|NAME

Each instance's agent reads its history table (hotswap.schema_history on
PostgreSQL), which the control plane compares with the executions it recorded.
Exits 0 when every instance is in sync, 1 when drift is found or an instance's
history could not be read, so a script can alert on it.

Examples:
  hotswap database history app
  hotswap database history app -o json | jq '.drift'`,
				Action: databaseHistory,
			},
		},
	}
}

func databaseSpecFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "file", Aliases: []string{"f"}, TakesFile: true,
			Usage: "JSON spec (name, description, type, environment, labels, instances); - reads stdin"},
		&cli.StringFlag{Name: "name", Usage: "database name"},
		&cli.StringFlag{Name: "description", Usage: "free text"},
		&cli.StringFlag{Name: "type", Usage: "engine: " + list(domain.DatabaseTypes)},
		&cli.StringFlag{Name: "environment", Aliases: []string{"env"}, Usage: "one of " + list(domain.Environments)},
		&cli.StringSliceFlag{Name: "label", Usage: "KEY=VALUE (repeatable)"},
		&cli.StringSliceFlag{Name: "instance", Usage: "AGENT/INSTANCE=ROLE, e.g. host1/main=Master (repeatable); roles: " +
			list(domain.InstanceRoles)},
	}
}

func databaseRegister(c *cli.Context) error {
	if err := needArgs(c); err != nil {
		return err
	}
	spec, err := databaseSpec(c, domain.DatabaseSpec{})
	if err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	db, err := cl.CreateDatabase(c.Context, spec)
	if err != nil {
		return fmt.Errorf("register database: %w", withFlagNames(c, err, databaseFlagOf))
	}
	return newPrinter(c).show(db, func(p printer) error { return printDatabase(p, db) })
}

func databaseUpdate(c *cli.Context) error {
	if err := needArgs(c, "ID|NAME"); err != nil {
		return err
	}
	if !anySet(c, databaseSpecFlags()) {
		return usageErr(c, "nothing to update: give --file or the flags of the fields to change")
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	id := c.Args().First()
	cur, err := cl.GetDatabase(c.Context, id)
	if err != nil {
		return fmt.Errorf("update database: %w", err)
	}
	spec, err := databaseSpec(c, specOfDatabase(cur))
	if err != nil {
		return err
	}
	db, err := cl.UpdateDatabase(c.Context, cur.DatabaseID, spec)
	if err != nil {
		return fmt.Errorf("update database: %w", withFlagNames(c, err, databaseFlagOf))
	}
	return newPrinter(c).show(db, func(p printer) error { return printDatabase(p, db) })
}

// specOfDatabase is the writable part of a registered database.
func specOfDatabase(d domain.Database) domain.DatabaseSpec {
	return domain.DatabaseSpec{Name: d.Name, Description: d.Description, Type: d.Type,
		Environment: d.Environment, Labels: d.Labels, Instances: d.Instances}
}

// databaseSpec builds the spec to send: base, replaced by --file when
// given, then the fields whose flags are set.
func databaseSpec(c *cli.Context, base domain.DatabaseSpec) (domain.DatabaseSpec, error) {
	spec := base
	if path := c.String("file"); path != "" {
		var err error
		if spec, err = readDatabaseFile(c, path); err != nil {
			return spec, err
		}
	}
	setString(c, "name", &spec.Name)
	setString(c, "description", &spec.Description)
	if c.IsSet("type") {
		spec.Type = canonical(c.String("type"), domain.DatabaseTypes)
	}
	if c.IsSet("environment") {
		spec.Environment = canonical(c.String("environment"), domain.Environments)
	}
	if err := applyLabels(c, &spec); err != nil {
		return spec, err
	}
	return spec, applyInstances(c, &spec)
}

// databaseFlagOf names the flag that sets an API field of a database.
var databaseFlagOf = map[string]string{
	"name": "name", "description": "description", "type": "type", "environment": "environment",
	"labels": "label", "instances": "instance",
}

// databaseFile is what --file holds: a spec, or a whole database as
// "database show -o json" prints it (its read-only fields are ignored).
type databaseFile struct {
	domain.DatabaseSpec
	DatabaseID string          `json:"databaseId"`
	CreatedAt  json.RawMessage `json:"createdAt"`
	UpdatedAt  json.RawMessage `json:"updatedAt"`
}

func readDatabaseFile(c *cli.Context, path string) (domain.DatabaseSpec, error) {
	raw, err := readInput(c, "file", path)
	if err != nil {
		return domain.DatabaseSpec{}, err
	}
	var f databaseFile
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return f.DatabaseSpec, usageErr(c, "--file %s: %v (fields: name, description, type, environment, labels, "+
			"instances [{agent, instanceId, role}]; connection strings and passwords belong in the "+
			"hotswap-agent config on the database host)", path, err)
	}
	return f.DatabaseSpec, nil
}

func applyLabels(c *cli.Context, spec *domain.DatabaseSpec) error {
	for _, kv := range c.StringSlice("label") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return usageErr(c, "--label %q: want KEY=VALUE, e.g. team=payments", kv)
		}
		labels := make(map[string]string, len(spec.Labels)+1)
		for lk, lv := range spec.Labels {
			labels[lk] = lv
		}
		labels[k] = v
		spec.Labels = labels
	}
	return nil
}

func applyInstances(c *cli.Context, spec *domain.DatabaseSpec) error {
	if !c.IsSet("instance") {
		return nil
	}
	spec.Instances = nil
	for _, s := range c.StringSlice("instance") {
		ref, err := parseInstance(s)
		if err != nil {
			return usageErr(c, "%v", err)
		}
		spec.Instances = append(spec.Instances, ref)
	}
	return nil
}

// parseInstance parses AGENT/INSTANCE=ROLE.
func parseInstance(s string) (domain.InstanceRef, error) {
	ref, role, hasRole := strings.Cut(s, "=")
	agent, id, hasID := strings.Cut(ref, "/")
	if !hasRole || !hasID || agent == "" || id == "" || role == "" {
		return domain.InstanceRef{}, fmt.Errorf("--instance %q: want AGENT/INSTANCE=ROLE, e.g. host1/main=Master (roles: %s)",
			s, list(domain.InstanceRoles))
	}
	return domain.InstanceRef{Agent: agent, InstanceID: id, Role: canonical(role, domain.InstanceRoles)}, nil
}

func databaseList(c *cli.Context) error {
	if err := needArgs(c); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	dbs, err := cl.ListDatabases(c.Context)
	if err != nil {
		return fmt.Errorf("list databases: %w", err)
	}
	return newPrinter(c).show(dbs, func(p printer) error {
		rows := make([][]string, 0, len(dbs.Databases))
		for _, d := range dbs.Databases {
			rows = append(rows, []string{d.DatabaseID, d.Name, string(d.Type), string(d.Environment),
				instances(d.Instances), labels(d.Labels)})
		}
		return p.table([]string{"ID", "NAME", "TYPE", "ENVIRONMENT", "INSTANCES", "LABELS"}, rows)
	})
}

func databaseShow(c *cli.Context) error {
	if err := needArgs(c, "ID|NAME"); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	db, err := cl.GetDatabase(c.Context, c.Args().First())
	if err != nil {
		return fmt.Errorf("show database: %w", err)
	}
	return newPrinter(c).show(db, func(p printer) error { return printDatabase(p, db) })
}

func printDatabase(p printer, d domain.Database) error {
	err := p.fields(
		field{"ID", d.DatabaseID},
		field{"Name", d.Name},
		field{"Type", string(d.Type)},
		field{"Environment", string(d.Environment)},
		field{"Description", or(d.Description)},
		field{"Labels", labels(d.Labels)},
		field{"Created", when(d.CreatedAt)},
		field{"Updated", when(d.UpdatedAt)},
	)
	if err != nil {
		return err
	}
	p.linef("")
	rows := make([][]string, 0, len(d.Instances))
	for _, in := range d.Instances {
		rows = append(rows, []string{in.Agent, in.InstanceID, string(in.Role)})
	}
	return p.table([]string{"AGENT", "INSTANCE", "ROLE"}, rows)
}

func databaseDelete(c *cli.Context) error {
	if err := needArgs(c, "ID|NAME"); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	del, what := cl.DeleteDatabase, ""
	if c.Bool("force") {
		del, what = cl.DeleteDatabaseWithHistory, " with its migrations and their executions (the audit log keeps them)"
	}
	if err := del(c.Context, c.Args().First()); err != nil {
		return fmt.Errorf("delete database: %w", err)
	}
	return done(c, "Database %s deleted%s.", c.Args().First(), what)
}

func databaseHealth(c *cli.Context) error {
	if err := needArgs(c, "ID|NAME"); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	h, err := cl.DatabaseHealth(c.Context, c.Args().First())
	if err != nil {
		return fmt.Errorf("database health: %w", err)
	}
	return newPrinter(c).show(h, func(p printer) error { return printHealth(p, h) })
}

func printHealth(p printer, h api.DatabaseHealth) error {
	err := p.fields(
		field{"Database", fmt.Sprintf("%s (%s)", h.Name, h.DatabaseID)},
		field{"Healthy", yesNo(h.IsHealthy)},
		field{"Connections", strconv.Itoa(h.ActiveConnections)},
		field{"Replication lag", lag(h.ReplicationLag)},
		field{"Last check", when(h.LastCheck)},
	)
	if err != nil {
		return err
	}
	for i, pr := range h.Problems {
		if i == 0 {
			p.linef("Problems:")
		}
		p.linef("  - %s", pr)
	}
	for i, w := range h.Warnings {
		if i == 0 {
			p.linef("Guards that cannot work (agent preflight):")
		}
		p.linef("  - %s", w)
	}
	p.linef("")
	rows := make([][]string, 0, len(h.Instances))
	for _, in := range h.Instances {
		rows = append(rows, []string{in.Agent + "/" + in.InstanceID, string(in.Role), string(in.DetectedRole),
			yesNo(in.AgentConnected), yesNo(in.Reachable), or(in.ServerVersion),
			strconv.Itoa(in.ActiveConnections), lag(in.ReplicationLagSeconds), in.Preflight.Summary(), or(in.Error)})
	}
	return p.table([]string{"INSTANCE", "ROLE", "DETECTED", "AGENT UP", "REACHABLE", "VERSION", "CONNECTIONS", "LAG",
		"PREFLIGHT", "ERROR"}, rows)
}

// instances lists instance references in --instance syntax.
func instances(refs []domain.InstanceRef) string {
	s := make([]string, len(refs))
	for i, r := range refs {
		s[i] = r.Agent + "/" + r.InstanceID + "=" + string(r.Role)
	}
	return list(s)
}

// labels lists labels as k=v, sorted by key.
func labels(m map[string]string) string {
	s := make([]string, 0, len(m))
	for k, v := range m {
		s = append(s, k+"="+v)
	}
	slices.Sort(s)
	return list(s)
}

func databaseHistory(c *cli.Context) error {
	if err := needArgs(c, "ID|NAME"); err != nil {
		return err
	}
	cl, err := newClient(c)
	if err != nil {
		return err
	}
	h, err := cl.DatabaseHistory(c.Context, c.Args().First())
	if err != nil {
		return fmt.Errorf("database history: %w", err)
	}
	if err := newPrinter(c).show(h, func(p printer) error { return printHistory(p, h) }); err != nil {
		return err
	}
	return historyVerdict(h)
}

func printHistory(p printer, h api.DatabaseHistory) error {
	p.linef("Database: %s (%s)", h.Name, h.DatabaseID)
	for _, in := range h.Instances {
		if err := printInstanceHistory(p, in); err != nil {
			return err
		}
	}
	p.linef("")
	switch {
	case len(h.Drift) > 0:
		p.linef("Drift:")
	case h.InSync:
		p.linef("Drift: none, in sync: every instance's schema matches what its last steps left, and its history the recorded executions.")
	default:
		p.linef("Drift: none found in the histories and schemas read, but not every instance's could be read.")
	}
	for _, d := range h.Drift {
		if d.Kind == "schema" {
			p.linef("  - schema on %s/%s: %s", d.Agent, d.InstanceID, d.Message)
			continue
		}
		p.linef("  - %s on %s/%s (execution %s, step %s): %s", d.Kind, d.Agent, d.InstanceID, or(d.ExecutionID),
			or(d.StepID), d.Message)
	}
	return nil
}

func printInstanceHistory(p printer, in api.InstanceHistory) error {
	p.linef("\nInstance %s/%s:", in.Agent, in.InstanceID)
	switch {
	case in.Error != "":
		p.linef("  error: %s", in.Error)
		return nil
	case in.SchemaError != "":
		p.linef("  the schema could not be compared: %s", in.SchemaError)
	}
	switch {
	case len(in.Rows) == 0:
		p.linef("  no migration applied")
		return nil
	}
	rows := make([][]string, 0, len(in.Rows))
	for _, r := range in.Rows {
		rows = append(rows, []string{when(r.AppliedAt), or(r.MigrationName), string(r.Direction), r.StepID, r.ExecutionID,
			millis(r.DurationMs), or(r.AppliedBy), prefix(r.Checksum, 12)})
	}
	return p.table([]string{"APPLIED", "MIGRATION", "DIRECTION", "STEP", "EXECUTION", "DURATION", "BY", "CHECKSUM"}, rows)
}

// historyVerdict is the exit status of database history: an error unless
// every instance's history was read and matches.
func historyVerdict(h api.DatabaseHistory) error {
	unread := 0
	for _, in := range h.Instances {
		if in.Error != "" || in.SchemaError != "" {
			unread++
		}
	}
	switch {
	case len(h.Drift) > 0:
		return fmt.Errorf("database %s has drifted: %d difference(s) between its instances' schema or history and what HotSwap recorded",
			h.Name, len(h.Drift))
	case unread > 0:
		return fmt.Errorf("database %s: the history of %d instance(s) could not be read: drift unknown", h.Name, unread)
	case !h.InSync:
		return fmt.Errorf("database %s is not in sync", h.Name)
	}
	return nil
}

// prefix is the first n characters of s.
func prefix(s string, n int) string {
	if len(s) <= n {
		return or(s)
	}
	return s[:n]
}
