package sqlserver

import (
	"context"
	"fmt"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// preflightSQL reads, as the agent's login, the permissions HotSwap's
// guards rely on (HAS_PERMS_BY_NAME answers 1, 0, or NULL for a
// securable that does not exist).
const preflightSQL = agentTag + `SELECT SUSER_SNAME(), DB_NAME(),
	COALESCE(HAS_PERMS_BY_NAME(NULL, NULL, N'VIEW SERVER STATE'), 0),
	COALESCE(HAS_PERMS_BY_NAME(DB_NAME(), N'DATABASE', N'VIEW DATABASE STATE'), 0),
	COALESCE(HAS_PERMS_BY_NAME(DB_NAME(), N'DATABASE', N'CREATE SCHEMA'), 0),
	COALESCE(HAS_PERMS_BY_NAME(DB_NAME(), N'DATABASE', N'CREATE TABLE'), 0),
	CASE WHEN SCHEMA_ID(N'hotswap') IS NULL THEN 0 ELSE 1 END,
	COALESCE(HAS_PERMS_BY_NAME(N'hotswap', N'SCHEMA', N'ALTER'), 0),
	COALESCE(HAS_PERMS_BY_NAME(N'hotswap', N'SCHEMA', N'INSERT'), 0),
	CAST(SERVERPROPERTY('EngineEdition') AS int),
	COALESCE(CAST(SERVERPROPERTY('IsHadrEnabled') AS int), 0)`

// preflightFacts is what preflightSQL found.
type preflightFacts struct {
	login, database          string
	viewServerState          bool
	viewDatabaseState        bool
	createSchema, createTbl  bool
	schemaExists             bool
	alterSchema, insertIntoS bool
	engineEdition            int
	hadr                     bool
}

// Preflight checks, as the agent's login (dialect.Preflighter): VIEW
// SERVER STATE to see other sessions' requests and locks
// (sys.dm_exec_requests, sys.dm_tran_locks) and the query statistics
// (sys.dm_exec_query_stats; VIEW DATABASE STATE on Azure SQL Database,
// which has no server state), the right to create the hotswap schema and
// its tables (CREATE SCHEMA and CREATE TABLE, or ALTER and INSERT on the
// schema once it exists), and VIEW SERVER STATE again for the availability
// group's state (sys.dm_hadr_*).
func (c *Conn) Preflight(ctx context.Context) (domain.Preflight, error) {
	var f preflightFacts
	var vss, vds, cs, ct, se, as, is, hadr int
	err := c.db.QueryRowContext(ctx, preflightSQL).Scan(&f.login, &f.database, &vss, &vds, &cs, &ct, &se, &as, &is,
		&f.engineEdition, &hadr)
	if err != nil {
		return domain.Preflight{}, c.scrub(fmt.Errorf("preflight %s: %w", c.target, err))
	}
	f.viewServerState, f.viewDatabaseState, f.createSchema, f.createTbl = vss == 1, vds == 1, cs == 1, ct == 1
	f.schemaExists, f.alterSchema, f.insertIntoS, f.hadr = se == 1, as == 1, is == 1, hadr == 1
	return domain.Preflight{CheckedAt: time.Now().UTC(), Checks: f.checks()}, nil
}

// checks are the four checks, in domain.PreflightChecks order.
func (f preflightFacts) checks() []domain.PreflightCheck {
	return []domain.PreflightCheck{f.sessions(), f.latency(), f.history(), f.replication()}
}

// azureDB reports whether the server is Azure SQL Database (EngineEdition
// 5), where database state stands in for server state.
func (f preflightFacts) azureDB() bool { return f.engineEdition == 5 }

// grantState is the GRANT that gives the state the checks need.
func (f preflightFacts) grantState() string {
	if f.azureDB() {
		return fmt.Sprintf("GRANT VIEW DATABASE STATE TO [%s] (in database %s)", f.login, f.database)
	}
	return fmt.Sprintf("GRANT VIEW SERVER STATE TO [%s] (in master)", f.login)
}

// seesState reports whether the login sees other sessions and statistics.
func (f preflightFacts) seesState() bool {
	return f.viewServerState || (f.azureDB() && f.viewDatabaseState)
}

func (f preflightFacts) sessions() domain.PreflightCheck {
	c := domain.PreflightCheck{Name: domain.PreflightSessions, OK: f.seesState()}
	if c.OK {
		c.Detail = "the login sees other sessions' requests and locks (sys.dm_exec_requests, sys.dm_tran_locks)"
		return c
	}
	c.Detail = "the login sees only its own session: blockers of the DDL cannot be waited out before trying"
	c.Fix = f.grantState()
	return c
}

func (f preflightFacts) latency() domain.PreflightCheck {
	c := domain.PreflightCheck{Name: domain.PreflightLatency, OK: f.seesState()}
	if c.OK {
		c.Detail = "sys.dm_exec_query_stats and sys.dm_os_wait_stats are readable"
		return c
	}
	c.Detail = "sys.dm_exec_query_stats is not readable: the latency rule has no data"
	c.Fix = f.grantState()
	return c
}

func (f preflightFacts) history() domain.PreflightCheck {
	c := domain.PreflightCheck{Name: domain.PreflightHistory}
	switch {
	case f.schemaExists && f.alterSchema && f.insertIntoS:
		c.OK, c.Detail = true, "the schema hotswap exists and the login may create tables in it and write them"
	case f.schemaExists:
		c.Detail = "the schema hotswap exists but the login may not alter it or insert into it"
		c.Fix = fmt.Sprintf("GRANT ALTER, SELECT, INSERT, UPDATE, DELETE ON SCHEMA::hotswap TO [%s]", f.login)
	case f.createSchema && f.createTbl:
		c.OK, c.Detail = true, "the login may create the schema hotswap and its tables"
	default:
		c.Detail = "the login may not create the schema hotswap or its tables"
		c.Fix = fmt.Sprintf("GRANT CREATE SCHEMA, CREATE TABLE TO [%s] (in database %s), or create the schema hotswap "+
			"and GRANT ALTER, SELECT, INSERT ON SCHEMA::hotswap to the login's user", f.login, f.database)
	}
	return c
}

func (f preflightFacts) replication() domain.PreflightCheck {
	c := domain.PreflightCheck{Name: domain.PreflightReplication}
	switch {
	case !f.hadr:
		c.OK, c.Detail = true, "Always On availability groups are not enabled on this server: no replicas to read"
	case f.viewServerState:
		c.OK, c.Detail = true, "the availability group's state is readable (sys.dm_hadr_*)"
	default:
		c.Detail = "the availability group's state is not readable: role, replicas and lag are unknown"
		c.Fix = fmt.Sprintf("GRANT VIEW SERVER STATE TO [%s] (in master)", f.login)
	}
	return c
}
