package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/dialect/lockwait"
)

// queryTextLimit is how much of a terminated session's query the
// execution's log keeps.
const queryTextLimit = 200

// terminateSQL ends the session $1 if its transaction is still the one
// that started at $2, it is a client backend other than this one and not
// one of the agent's ($4), and it is neither a superuser's nor a
// replication role's session unless $3 allows those. It returns who the
// session was and whether pg_terminate_backend was called and succeeded;
// no row when the transaction has already gone.
const terminateSQL = `
SELECT coalesce(a.usename, ''), coalesce(a.application_name, ''), a.query_start,
	left(coalesce(a.query, ''), $5), coalesce(r.rolsuper OR r.rolreplication, false),
	CASE WHEN $3 OR NOT coalesce(r.rolsuper OR r.rolreplication, false)
		THEN pg_terminate_backend(a.pid) ELSE false END
FROM pg_stat_activity a LEFT JOIN pg_roles r ON r.oid = a.usesysid
WHERE a.pid = $1 AND a.xact_start = $2 AND a.backend_type = 'client backend'
	AND a.pid <> pg_backend_pid() AND a.application_name IS DISTINCT FROM $4`

// Terminate ends a blocker's session with pg_terminate_backend, as the
// migration's lock policy allows (lockwait.Terminator). The agent's role
// needs pg_signal_backend (or to be a superuser); a superuser's session can
// only be ended by a superuser.
func (s lockSession) Terminate(ctx context.Context, b lockwait.Blocker) (lockwait.Termination, error) {
	pid, err := strconv.ParseInt(b.Session, 10, 32)
	if err != nil {
		return lockwait.Termination{}, fmt.Errorf("blocker pid %q: %w", b.Session, err)
	}
	ctx, cancel := context.WithTimeout(ctx, blockersQueryTimeout)
	defer cancel()
	var user, app, query string
	var started *time.Time
	var privileged, done bool
	row := s.r.conn.QueryRow(ctx, terminateSQL, int32(pid), b.Started, s.r.req.LockPolicy.TerminatePrivileged,
		ApplicationName, queryTextLimit)
	switch err := row.Scan(&user, &app, &started, &query, &privileged, &done); {
	case errors.Is(err, pgx.ErrNoRows):
		return lockwait.Termination{}, nil // gone already
	case err != nil:
		return lockwait.Termination{}, fmt.Errorf("terminate pid %d: %w", pid, err)
	}
	t := lockwait.Termination{Terminated: done, Who: who(user, app, started, query)}
	switch {
	case !done && privileged:
		t.Refused = "a superuser or replication session, which the migration's policy does not allow terminating (terminatePrivileged)"
	case !done:
		t.Refused = "pg_terminate_backend refused"
	}
	return t, nil
}

// who describes a session for the execution's log.
func who(user, app string, started *time.Time, query string) string {
	at := "unknown"
	if started != nil {
		at = started.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("user %q, application_name %q, query started %s, query %q", user, app, at, query)
}
