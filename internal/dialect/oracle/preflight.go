package oracle

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/internal/domain"
)

// The views each check reads, one row at most.
var (
	sessionViews     = []string{"v$session", "v$lock", "v$transaction"}
	latencyViews     = []string{"v$sysmetric", "v$sqlarea", "v$sysstat"}
	replicationViews = []string{"v$database", "v$dataguard_stats", "v$archive_dest"}
)

// The account's look-ups.
const (
	userSQL          = `SELECT USER FROM dual`
	historyUserSQL   = `SELECT COUNT(*) FROM all_users WHERE username = 'HOTSWAP'`
	anyTablePrivsSQL = `SELECT COUNT(*) FROM session_privs WHERE privilege IN ('CREATE ANY TABLE', 'INSERT ANY TABLE', 'SELECT ANY TABLE')`
	historyGrantsSQL = `SELECT COUNT(*) FROM all_tab_privs WHERE table_schema = 'HOTSWAP'
	AND table_name IN ('SCHEMA_HISTORY', 'STEP_PROGRESS', 'STEP_INTENT') AND privilege = 'INSERT'`
)

// Preflight checks, as the agent's account, what HotSwap's guards rely on
// (dialect.Preflighter): SELECT on v$session, v$lock and v$transaction
// to see blockers; on v$sysmetric, v$sqlarea and v$sysstat for the
// latency figures; on v$database, v$dataguard_stats and v$archive_dest
// for Data Guard (all of them come with
// SELECT_CATALOG_ROLE, or one by one with GRANT SELECT ON SYS.V_$...);
// and the HOTSWAP schema with the right to create and write its tables
// (see HistorySchema).
func (c *Conn) Preflight(ctx context.Context) (domain.Preflight, error) {
	conn, err := c.session(ctx)
	if err != nil {
		return domain.Preflight{}, c.scrub(fmt.Errorf("preflight %s: %w", c.target, err))
	}
	defer conn.Close()
	var user string
	if err := conn.QueryRowContext(ctx, userSQL).Scan(&user); err != nil {
		return domain.Preflight{}, c.scrub(fmt.Errorf("preflight %s: %w", c.target, err))
	}
	checks := []domain.PreflightCheck{
		viewsCheck(ctx, conn, domain.PreflightSessions, sessionViews, user, "blockers can be seen and waited out"),
		viewsCheck(ctx, conn, domain.PreflightLatency, latencyViews, user, "statement latency and transaction rates can be read"),
		historyCheck(ctx, conn, user),
		viewsCheck(ctx, conn, domain.PreflightReplication, replicationViews, user, "Data Guard role, destinations and apply lag can be read"),
	}
	for _, ch := range checks {
		if ch.Name == "" {
			return domain.Preflight{}, c.scrub(fmt.Errorf("preflight %s: %s", c.target, ch.Detail))
		}
	}
	return domain.Preflight{CheckedAt: time.Now().UTC(), Checks: checks}, nil
}

// viewsCheck tries one row of each view. A view the account may not
// read fails the check; another error leaves the check's name empty and
// its detail the error, for Preflight to return.
func viewsCheck(ctx context.Context, q queryer, name string, views []string, user, ok string) domain.PreflightCheck {
	var missing []string
	for _, v := range views {
		var n int
		err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+v+" WHERE ROWNUM = 1").Scan(&n)
		switch {
		case denied(err):
			missing = append(missing, v)
		case err != nil:
			return domain.PreflightCheck{Detail: fmt.Sprintf("read %s: %v", v, err)}
		}
	}
	if len(missing) == 0 {
		return domain.PreflightCheck{Name: name, OK: true, Detail: strings.Join(views, ", ") + " readable: " + ok}
	}
	grants := make([]string, len(missing))
	for i, v := range missing {
		grants[i] = fmt.Sprintf("GRANT SELECT ON SYS.%s TO %s", strings.Replace(strings.ToUpper(v), "V$", "V_$", 1), user)
	}
	return domain.PreflightCheck{Name: name, Detail: "the account may not read " + strings.Join(missing, ", "),
		Fix: fmt.Sprintf("GRANT SELECT_CATALOG_ROLE TO %s, or: %s", user, strings.Join(grants, "; "))}
}

// historyCheck checks the HOTSWAP schema and the account's right to
// create and write the history tables in it.
func historyCheck(ctx context.Context, q queryer, user string) domain.PreflightCheck {
	var users, anyPrivs, grants int
	for _, l := range []struct {
		sql string
		n   *int
	}{{historyUserSQL, &users}, {anyTablePrivsSQL, &anyPrivs}, {historyGrantsSQL, &grants}} {
		if err := q.QueryRowContext(ctx, l.sql).Scan(l.n); err != nil && !denied(err) {
			return domain.PreflightCheck{Detail: fmt.Sprintf("read the history schema's privileges: %v", err)}
		}
	}
	ch := domain.PreflightCheck{Name: domain.PreflightHistory}
	switch {
	case users == 0:
		ch.Detail = "the history schema HOTSWAP does not exist"
		ch.Fix = fmt.Sprintf("as a DBA: CREATE USER hotswap NO AUTHENTICATION QUOTA 64M ON users; GRANT CREATE ANY TABLE, CREATE ANY INDEX, SELECT ANY TABLE, INSERT ANY TABLE TO %s", user)
	case user == HistorySchema, anyPrivs >= 3, grants >= 3:
		ch.OK, ch.Detail = true, "the account may create and write the history tables in HOTSWAP"
	default:
		ch.Detail = "the account may not create or write the history tables in HOTSWAP"
		ch.Fix = fmt.Sprintf("GRANT CREATE ANY TABLE, CREATE ANY INDEX, SELECT ANY TABLE, INSERT ANY TABLE TO %s, or create the tables as HOTSWAP's owner and GRANT SELECT, INSERT on them", user)
	}
	return ch
}
