package sqlserver

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect/lockwait"
)

// lockSession is the step's session, as lockwait.Session.
type lockSession struct{ r *stepRun }

// IsLockTimeout reports whether err is a lock timeout or a deadlock.
func (s lockSession) IsLockTimeout(err error) bool { return isLockTimeout(err) }

// blockersSQL lists the sessions that block session @p1 now, with the
// start of their transaction.
const blockersSQL = agentTag + `SELECT r.blocking_session_id, COALESCE(MIN(at.transaction_begin_time), CAST('19700101' AS datetime)),
	CAST(COALESCE(DATEDIFF_BIG(millisecond, MIN(at.transaction_begin_time), GETDATE()), 0) AS bigint), MIN(r.wait_type)
	FROM sys.dm_exec_requests r
	LEFT JOIN sys.dm_tran_session_transactions st ON st.session_id = r.blocking_session_id
	LEFT JOIN sys.dm_tran_active_transactions at ON at.transaction_id = st.transaction_id
	WHERE r.session_id = @p1 AND r.blocking_session_id > 0
	GROUP BY r.blocking_session_id`

// Blockers lists the sessions the step's session waits for now
// (sys.dm_exec_requests.blocking_session_id).
func (s lockSession) Blockers(ctx context.Context) ([]lockwait.Blocker, error) {
	rows, err := s.r.c.db.QueryContext(ctx, blockersSQL, s.r.facts.spid)
	if _, ok := denied(err); ok {
		return nil, nil // no VIEW SERVER STATE: the guard is blind, as the preflight warned
	}
	if err != nil {
		return nil, fmt.Errorf("look up blockers: %w", err)
	}
	defer rows.Close()
	var out []lockwait.Blocker
	for rows.Next() {
		var b lockwait.Blocker
		var id, ageMs int64
		var wait string
		if err := rows.Scan(&id, &b.Started, &ageMs, &wait); err != nil {
			return nil, fmt.Errorf("look up blockers: %w", err)
		}
		b.Session, b.Age, b.Holds = strconv.FormatInt(id, 10), time.Duration(ageMs)*time.Millisecond, "holding the lock "+wait+" waits for"
		out = append(out, b)
	}
	return out, rows.Err()
}

// transactionOpenSQL counts session @p1's transactions that began at @p2
// (any, when @p2 is NULL).
const transactionOpenSQL = agentTag + `SELECT count(*) FROM sys.dm_tran_session_transactions st
	JOIN sys.dm_tran_active_transactions at ON at.transaction_id = st.transaction_id
	WHERE st.session_id = @p1 AND (@p2 IS NULL OR at.transaction_begin_time = @p2)`

// Ended reports whether every blocker's transaction (session and start)
// has ended.
func (s lockSession) Ended(ctx context.Context, bs []lockwait.Blocker) (bool, error) {
	for _, b := range bs {
		id, err := strconv.ParseInt(b.Session, 10, 64)
		if err != nil {
			return false, fmt.Errorf("blocker session %q: %w", b.Session, err)
		}
		var started any
		if !b.Started.IsZero() && b.Started.Year() > 1970 {
			started = b.Started
		}
		var n int
		if err := s.r.c.db.QueryRowContext(ctx, transactionOpenSQL, id, started).Scan(&n); err != nil {
			return false, fmt.Errorf("look up blocker %s: %w", b.Session, err)
		}
		if n > 0 {
			return false, nil
		}
	}
	return true, nil
}

// stmtNeeds is what one unit needs, as lockwait.Needs.
type stmtNeeds struct {
	r       *stepRun
	targets []string
	sql     string
}

// SQL is the statement to blame.
func (n stmtNeeds) SQL() string { return n.sql }

// Holders lists the other sessions, in a transaction open longer than
// minAge, holding a granted lock on the unit's tables (sys.dm_tran_locks,
// OBJECT resources of this database); the agent's own sessions are left
// out.
func (n stmtNeeds) Holders(ctx context.Context, minAge time.Duration) ([]lockwait.Blocker, error) {
	if len(n.targets) == 0 {
		return nil, nil
	}
	stmt, args := holdersQuery(n.targets, minAge)
	rows, err := n.r.c.db.QueryContext(ctx, stmt, args...)
	if _, ok := denied(err); ok {
		return nil, nil // no VIEW SERVER STATE: the guard is blind, as the preflight warned
	}
	if err != nil {
		return nil, fmt.Errorf("look up lock holders: %w", err)
	}
	defer rows.Close()
	var out []lockwait.Blocker
	for rows.Next() {
		var b lockwait.Blocker
		var id, ageMs int64
		var holds string
		if err := rows.Scan(&id, &b.Started, &ageMs, &holds); err != nil {
			return nil, fmt.Errorf("look up lock holders: %w", err)
		}
		b.Session, b.Age, b.Holds = strconv.FormatInt(id, 10), time.Duration(ageMs)*time.Millisecond, "holding "+holds
		out = append(out, b)
	}
	return out, rows.Err()
}

// holdersQuery is the query of Holders for targets: @p1 is the minimum
// age in milliseconds, @p2... the tables' names.
func holdersQuery(targets []string, minAge time.Duration) (string, []any) {
	ids := make([]string, len(targets))
	args := []any{minAge.Milliseconds()}
	for i, t := range targets {
		ids[i] = fmt.Sprintf("OBJECT_ID(@p%d)", i+2)
		args = append(args, t)
	}
	stmt := agentTag + `SELECT l.request_session_id, MIN(at.transaction_begin_time),
	CAST(DATEDIFF_BIG(millisecond, MIN(at.transaction_begin_time), GETDATE()) AS bigint),
	MIN(l.request_mode + N' lock on ' + OBJECT_SCHEMA_NAME(l.resource_associated_entity_id) + N'.' + OBJECT_NAME(l.resource_associated_entity_id))
	FROM sys.dm_tran_locks l
	JOIN sys.dm_exec_sessions s ON s.session_id = l.request_session_id
	JOIN sys.dm_tran_session_transactions st ON st.session_id = l.request_session_id
	JOIN sys.dm_tran_active_transactions at ON at.transaction_id = st.transaction_id
	WHERE l.resource_type = N'OBJECT' AND l.resource_database_id = DB_ID() AND l.request_status = N'GRANT'
	AND l.resource_associated_entity_id IN (` + strings.Join(ids, ", ") + `)
	AND l.request_session_id <> @@SPID AND s.program_name <> N'` + ProgramName + `'
	GROUP BY l.request_session_id
	HAVING DATEDIFF_BIG(millisecond, MIN(at.transaction_begin_time), GETDATE()) >= @p1
	ORDER BY l.request_session_id`
	return stmt, args
}
