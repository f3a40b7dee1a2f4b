package postgres

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// preflightFacts is what one look at the instance finds about the role.
type preflightFacts struct {
	user          string
	superuser     bool
	readAllStats  bool // pg_read_all_stats, which pg_monitor includes
	standby       bool
	preload       *string // nil when the role may not read the setting
	pgssVersion   string  // empty when the extension is not created
	pgssReadErr   string  // why reading pg_stat_statements failed
	historyExists bool    // hotswap.schema_history exists
	schemaExists  bool    // schema hotswap exists
	canWrite      bool    // may insert into the history (when it exists)
	canCreate     bool    // may create it (CREATE on the schema or database)
	database      string
	// onSearchPath: schema hotswap is (or, once created, would be) on the
	// role's search_path, so its migrations' unqualified new tables would
	// be created in the history schema (a role named hotswap, "$user").
	onSearchPath bool
}

// preflightSQL reads every fact but pg_stat_statements' readability. The
// privilege functions get their object names as parameters, and are only
// reached (CASE) when the object exists.
const preflightSQL = `SELECT current_user, r.rolsuper,
	pg_has_role(current_user, 'pg_read_all_stats', 'USAGE'),
	pg_is_in_recovery(),
	CASE WHEN pg_has_role(current_user, 'pg_read_all_settings', 'USAGE')
		THEN current_setting('shared_preload_libraries') END,
	coalesce((SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements'), ''),
	to_regclass($1) IS NOT NULL,
	to_regnamespace($2) IS NOT NULL,
	CASE WHEN to_regclass($1) IS NOT NULL THEN has_table_privilege($1, 'INSERT') ELSE false END,
	CASE WHEN to_regnamespace($2) IS NOT NULL THEN has_schema_privilege($2, 'CREATE')
		ELSE has_database_privilege(current_database(), 'CREATE') END,
	current_database(), ` + historyOnSearchPathSQL + `
	FROM pg_roles r WHERE r.rolname = current_user`

// historyOnSearchPathSQL is true when schema hotswap is, or once created
// would be, the first schema of the session's search_path that exists or
// is the role's own ("$user"): where an unqualified CREATE TABLE goes.
const historyOnSearchPathSQL = `coalesce((SELECT s = 'hotswap' FROM (
		SELECT CASE WHEN btrim(e) = '"$user"' OR btrim(e) = '$user' THEN current_user::text ELSE btrim(btrim(e), '"') END AS s, o
		FROM unnest(string_to_array(current_setting('search_path'), ',')) WITH ORDINALITY AS u(e, o)) p
	WHERE s = 'hotswap' OR to_regnamespace(quote_ident(s)) IS NOT NULL ORDER BY o LIMIT 1), false)`

// Preflight checks, as the agent's role, what HotSwap's guards rely on
// (dialect.Preflighter): pg_read_all_stats (through pg_monitor) or
// superuser to see other sessions' queries, transaction ages and
// replication state; pg_stat_statements preloaded, created in the
// database and readable; the right to create or write hotswap's history.
func (c *Conn) Preflight(ctx context.Context) (domain.Preflight, error) {
	f, err := c.preflightFacts(ctx)
	if err != nil {
		return domain.Preflight{}, c.scrub(fmt.Errorf("preflight %s: %w", c.target, err))
	}
	return domain.Preflight{CheckedAt: time.Now().UTC(), Checks: []domain.PreflightCheck{
		f.sessions(), f.latency(), f.history(), f.replication(),
	}}, nil
}

// preflightFacts reads the facts on one session.
func (c *Conn) preflightFacts(ctx context.Context) (preflightFacts, error) {
	var f preflightFacts
	err := c.pool.QueryRow(ctx, preflightSQL, "hotswap.schema_history", "hotswap").Scan(&f.user, &f.superuser,
		&f.readAllStats, &f.standby, &f.preload, &f.pgssVersion, &f.historyExists, &f.schemaExists,
		&f.canWrite, &f.canCreate, &f.database, &f.onSearchPath)
	if err != nil {
		return f, err
	}
	if f.pgssVersion != "" {
		f.pgssReadErr = readStatements(ctx, c.pool)
	}
	return f, nil
}

// readStatements tries pg_stat_statements and says why it failed, if it did.
func readStatements(ctx context.Context, pool *pgxpool.Pool) string {
	var n int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_statements`).Scan(&n); err != nil {
		return err.Error()
	}
	return ""
}

// plainIdent is an identifier that needs no quotes.
var plainIdent = regexp.MustCompile(`^[a-z_][a-z0-9_$]*$`)

// ident writes a name as SQL would take it in a GRANT: bare when it can be.
func ident(name string) string {
	if plainIdent.MatchString(name) {
		return name
	}
	return quoteIdent(name)
}

// seesSessions reports whether the role sees other roles' activity.
func (f preflightFacts) seesSessions() bool { return f.superuser || f.readAllStats }

// grantMonitor is the fix for a role that cannot see other sessions.
func (f preflightFacts) grantMonitor() string {
	return fmt.Sprintf("GRANT pg_monitor TO %s", ident(f.user))
}

func (f preflightFacts) sessions() domain.PreflightCheck {
	c := domain.PreflightCheck{Name: domain.PreflightSessions, OK: f.seesSessions()}
	if c.OK {
		c.Detail = fmt.Sprintf("role %s sees other sessions' queries, transaction ages and locks", f.user)
		return c
	}
	c.Detail = fmt.Sprintf("role %s is neither superuser nor a member of pg_monitor (pg_read_all_stats): "+
		"it cannot see other roles' queries or transaction ages, so it cannot wait for a blocker outside the lock queue",
		f.user)
	c.Fix = f.grantMonitor()
	return c
}

func (f preflightFacts) latency() domain.PreflightCheck {
	c := domain.PreflightCheck{Name: domain.PreflightLatency}
	const preload = "shared_preload_libraries = 'pg_stat_statements' in postgresql.conf, restart, then CREATE EXTENSION pg_stat_statements"
	switch {
	case f.preload != nil && !hasLibrary(*f.preload, "pg_stat_statements"),
		strings.Contains(f.pgssReadErr, "shared_preload_libraries"):
		c.Detail = "pg_stat_statements is not in shared_preload_libraries: no query latency, the latency rule has no data"
		c.Fix = preload
	case f.pgssVersion == "":
		c.Detail = fmt.Sprintf("pg_stat_statements is not created in database %s: the latency rule has no data", f.database)
		c.Fix = fmt.Sprintf("CREATE EXTENSION pg_stat_statements in database %s (as a superuser), with it in shared_preload_libraries", f.database)
	case f.pgssReadErr != "":
		c.Detail = "pg_stat_statements cannot be read: " + f.pgssReadErr
		c.Fix = "GRANT EXECUTE ON FUNCTION pg_stat_statements(boolean) TO " + ident(f.user)
	default:
		c.OK = true
		c.Detail = "pg_stat_statements " + f.pgssVersion + " is loaded and readable"
	}
	return c
}

// hasLibrary reports whether a shared_preload_libraries value lists lib.
func hasLibrary(list, lib string) bool {
	for _, l := range strings.Split(list, ",") {
		if strings.Trim(strings.TrimSpace(l), `"`) == lib {
			return true
		}
	}
	return false
}

func (f preflightFacts) history() domain.PreflightCheck {
	c := domain.PreflightCheck{Name: domain.PreflightHistory}
	switch {
	case f.standby:
		c.OK = true
		c.Detail = "standby: steps and their history reach it from the primary"
	case f.onSearchPath:
		c.Detail = fmt.Sprintf("schema hotswap comes first on role %s's search_path (%s): its migrations' unqualified new "+
			"tables would be created in the history schema", f.user, searchPathNote(f.user))
		c.Fix = fmt.Sprintf("use a role named otherwise (README, \"The database role\"), or ALTER ROLE %s SET search_path = public",
			ident(f.user))
	case f.historyExists && f.canWrite:
		c.OK = true
		c.Detail = "hotswap.schema_history exists and the role may write it"
	case f.historyExists:
		c.Detail = fmt.Sprintf("role %s may not write hotswap.schema_history", f.user)
		c.Fix = fmt.Sprintf("GRANT USAGE ON SCHEMA hotswap TO %[1]s; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA hotswap TO %[1]s",
			ident(f.user))
	case f.canCreate:
		c.OK = true
		c.Detail = "the role may create the hotswap history schema"
	case f.schemaExists:
		c.Detail = fmt.Sprintf("role %s may not create tables in schema hotswap", f.user)
		c.Fix = fmt.Sprintf("GRANT CREATE, USAGE ON SCHEMA hotswap TO %s", ident(f.user))
	default:
		c.Detail = fmt.Sprintf("role %s may not create schema hotswap in database %s", f.user, f.database)
		c.Fix = fmt.Sprintf("GRANT CREATE ON DATABASE %s TO %s", ident(f.database), ident(f.user))
	}
	return c
}

func (f preflightFacts) replication() domain.PreflightCheck {
	c := domain.PreflightCheck{Name: domain.PreflightReplication, OK: f.seesSessions()}
	if c.OK {
		c.Detail = "the role reads pg_stat_replication and pg_stat_wal_receiver in full"
		return c
	}
	c.Detail = fmt.Sprintf("role %s sees only its own rows' details in pg_stat_replication and pg_stat_wal_receiver: "+
		"standbys' state and lag are hidden", f.user)
	c.Fix = f.grantMonitor()
	return c
}

// searchPathNote says why hotswap is on the search path.
func searchPathNote(user string) string {
	if user == "hotswap" {
		return `"$user" is hotswap`
	}
	return "it names hotswap"
}
