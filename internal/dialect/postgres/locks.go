package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	pgquery "github.com/pganalyze/pg_query_go/v6"

	"github.com/hotswap-db/hotswap/internal/dialect/lockwait"
)

// blockersQueryTimeout bounds one look at who blocks the DDL session.
const blockersQueryTimeout = time.Second

// lockMode is a PostgreSQL table lock mode, numbered as in the server
// (and in LockStmt.Mode of the parse tree).
type lockMode int

// The table lock modes.
const (
	accessShare lockMode = iota + 1
	rowShare
	rowExclusive
	shareUpdateExclusive
	share
	shareRowExclusive
	exclusive
	accessExclusive
)

// lockModeNames are the names pg_locks.mode uses.
var lockModeNames = map[string]lockMode{
	"AccessShareLock": accessShare, "RowShareLock": rowShare, "RowExclusiveLock": rowExclusive,
	"ShareUpdateExclusiveLock": shareUpdateExclusive, "ShareLock": share,
	"ShareRowExclusiveLock": shareRowExclusive, "ExclusiveLock": exclusive,
	"AccessExclusiveLock": accessExclusive,
}

// conflicts reports whether a lock held in mode held blocks a request for
// mode want (the server's conflict table).
func conflicts(want, held lockMode) bool {
	switch min(want, held) {
	case accessShare:
		return max(want, held) == accessExclusive
	case rowShare:
		return max(want, held) >= exclusive
	case rowExclusive:
		return max(want, held) >= share
	default:
		// From SHARE UPDATE EXCLUSIVE up, every mode conflicts with every
		// mode from SHARE UPDATE EXCLUSIVE up, except SHARE with itself.
		return !(want == share && held == share)
	}
}

// lockTarget is a relation a statement locks, and in which mode.
type lockTarget struct {
	name string // quoted for to_regclass
	mode lockMode
	sql  string // the statement that needs the lock
}

// lockTargets lists the relations statement n locks. CREATE INDEX
// CONCURRENTLY asks for SHARE UPDATE EXCLUSIVE but waits for every
// transaction that writes the table, as a SHARE request would.
func lockTargets(n *pgquery.Node) []lockTarget {
	switch {
	case n.GetAlterTableStmt() != nil:
		return alterTargets(n.GetAlterTableStmt())
	case n.GetIndexStmt() != nil:
		return targetOf(n.GetIndexStmt().GetRelation(), share)
	case n.GetRenameStmt() != nil:
		return targetOf(n.GetRenameStmt().GetRelation(), accessExclusive)
	case n.GetCreateTrigStmt() != nil:
		return targetOf(n.GetCreateTrigStmt().GetRelation(), shareRowExclusive)
	case n.GetClusterStmt() != nil:
		return targetOf(n.GetClusterStmt().GetRelation(), accessExclusive)
	case n.GetReindexStmt() != nil:
		return targetOf(n.GetReindexStmt().GetRelation(), accessExclusive)
	case n.GetDropStmt() != nil:
		return dropTargets(n.GetDropStmt())
	}
	return listTargets(n)
}

// listTargets covers the statements that name a list of relations.
func listTargets(n *pgquery.Node) []lockTarget {
	var out []lockTarget
	switch {
	case n.GetTruncateStmt() != nil:
		for _, r := range n.GetTruncateStmt().GetRelations() {
			out = append(out, targetOf(r.GetRangeVar(), accessExclusive)...)
		}
	case n.GetLockStmt() != nil:
		mode := lockMode(n.GetLockStmt().GetMode())
		for _, r := range n.GetLockStmt().GetRelations() {
			out = append(out, targetOf(r.GetRangeVar(), mode)...)
		}
	case n.GetVacuumStmt() != nil:
		for _, r := range n.GetVacuumStmt().GetRels() {
			out = append(out, targetOf(r.GetVacuumRelation().GetRelation(), shareUpdateExclusive)...)
		}
	}
	return out
}

// alterTargets is the altered table, plus the tables a new foreign key
// references (locked SHARE ROW EXCLUSIVE).
func alterTargets(a *pgquery.AlterTableStmt) []lockTarget {
	out := targetOf(a.GetRelation(), accessExclusive)
	for _, c := range a.GetCmds() {
		con := c.GetAlterTableCmd().GetDef().GetConstraint()
		if con.GetContype() == pgquery.ConstrType_CONSTR_FOREIGN {
			out = append(out, targetOf(con.GetPktable(), shareRowExclusive)...)
		}
	}
	return out
}

// dropTargets is the relations a DROP removes.
func dropTargets(d *pgquery.DropStmt) []lockTarget {
	switch d.GetRemoveType() {
	case pgquery.ObjectType_OBJECT_TABLE, pgquery.ObjectType_OBJECT_INDEX, pgquery.ObjectType_OBJECT_VIEW,
		pgquery.ObjectType_OBJECT_MATVIEW, pgquery.ObjectType_OBJECT_SEQUENCE, pgquery.ObjectType_OBJECT_FOREIGN_TABLE:
	default:
		return nil
	}
	var out []lockTarget
	for _, name := range objectNames(d.GetObjects()) {
		out = append(out, lockTarget{name: name, mode: accessExclusive})
	}
	return out
}

// targetOf is one relation of the parse tree, if named.
func targetOf(rv *pgquery.RangeVar, mode lockMode) []lockTarget {
	if name := rangeVarName(rv); name != "" {
		return []lockTarget{{name: name, mode: mode}}
	}
	return nil
}

// holdingSnapshot is what a snapshot holder holds, for messages.
const holdingSnapshot = "holding a snapshot that CREATE INDEX CONCURRENTLY would wait for"

// blocker makes a lockwait.Blocker of a session's transaction.
func blocker(pid int32, xactStart time.Time, ageSeconds float64, holds string) lockwait.Blocker {
	return lockwait.Blocker{Session: strconv.Itoa(int(pid)), Started: xactStart,
		Age: time.Duration(ageSeconds * float64(time.Second)), Holds: holds}
}

// longHolders lists the other sessions' transactions, open longer than
// minAge, that hold what needs asks for: a conflicting lock on a target
// or, for a command that waits for older snapshots, a snapshot.
func longHolders(ctx context.Context, q querier, needs lockNeeds, minAge time.Duration) ([]lockwait.Blocker, error) {
	hs, err := conflictingHolders(ctx, q, needs.targets, minAge)
	if err != nil || !needs.snapshots {
		return hs, err
	}
	snaps, err := snapshotHolders(ctx, q, minAge)
	for _, h := range snaps {
		hs = lockwait.AddTransaction(hs, h)
	}
	return hs, err
}

// snapshotHoldersSQL finds the client sessions of this database, other
// than the agent's ($1), whose transaction has been open longer than $2
// seconds and holds a snapshot (backend_xmin).
const snapshotHoldersSQL = `
SELECT a.pid, a.xact_start, extract(epoch FROM clock_timestamp() - a.xact_start)::float8
FROM pg_stat_activity a
WHERE a.datname = current_database() AND a.backend_type = 'client backend'
	AND a.pid <> pg_backend_pid() AND a.application_name IS DISTINCT FROM $1
	AND a.backend_xmin IS NOT NULL
	AND a.xact_start IS NOT NULL AND a.xact_start < clock_timestamp() - make_interval(secs => $2)
ORDER BY a.xact_start, a.pid`

// snapshotHolders lists the long transactions holding a snapshot.
func snapshotHolders(ctx context.Context, q querier, minAge time.Duration) ([]lockwait.Blocker, error) {
	rows, err := q.Query(ctx, snapshotHoldersSQL, ApplicationName, minAge.Seconds())
	if err != nil {
		return nil, fmt.Errorf("look up snapshot holders: %w", err)
	}
	hs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (lockwait.Blocker, error) {
		var pid int32
		var start time.Time
		var ageSeconds float64
		err := row.Scan(&pid, &start, &ageSeconds)
		return blocker(pid, start, ageSeconds, holdingSnapshot), err
	})
	if err != nil {
		return nil, fmt.Errorf("look up snapshot holders: %w", err)
	}
	return hs, nil
}

// conflictingHoldersSQL finds the other sessions' transactions, open for
// longer than $3 seconds or idle inside a transaction (they keep their
// locks until their client acts), that hold a granted lock on one of the
// relations named in $1, leaving the agent's own sessions ($2) out.
const conflictingHoldersSQL = `
SELECT a.pid, a.xact_start, extract(epoch FROM clock_timestamp() - a.xact_start)::float8,
	l.mode, l.relation::regclass::text, t.idx::int
FROM unnest($1::text[]) WITH ORDINALITY AS t(name, idx)
JOIN pg_locks l ON l.locktype = 'relation' AND l.granted AND l.relation = to_regclass(t.name)
	AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
JOIN pg_stat_activity a ON a.pid = l.pid
WHERE a.pid <> pg_backend_pid() AND a.application_name IS DISTINCT FROM $2
	AND a.xact_start IS NOT NULL
	AND (a.xact_start < clock_timestamp() - make_interval(secs => $3)
		OR (a.state LIKE 'idle in transaction%' AND a.state_change < clock_timestamp() - interval '50 milliseconds'))
ORDER BY a.xact_start, a.pid`

// conflictingHolders lists, once per session, the transactions open for
// longer than minAge that hold a lock conflicting with what targets need.
func conflictingHolders(ctx context.Context, q querier, targets []lockTarget, minAge time.Duration) ([]lockwait.Blocker, error) {
	if len(targets) == 0 {
		return nil, nil
	}
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.name
	}
	rows, err := q.Query(ctx, conflictingHoldersSQL, names, ApplicationName, minAge.Seconds())
	if err != nil {
		return nil, fmt.Errorf("look up lock holders: %w", err)
	}
	var out []lockwait.Blocker
	seen := map[int32]bool{}
	for rows.Next() {
		h, err := scanHolder(rows)
		if err != nil {
			return nil, err
		}
		held, known := lockModeNames[h.mode]
		if seen[h.pid] || h.idx < 1 || h.idx > len(targets) || (known && !conflicts(targets[h.idx-1].mode, held)) {
			continue
		}
		seen[h.pid] = true
		out = append(out, blocker(h.pid, h.xactStart, h.ageSeconds, fmt.Sprintf("holding %s on %s", h.mode, h.relation)))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up lock holders: %w", err)
	}
	return out, nil
}

// lockHolder is one row of conflictingHoldersSQL.
type lockHolder struct {
	pid            int32
	xactStart      time.Time
	ageSeconds     float64
	mode, relation string
	idx            int // 1-based index of the target
}

// scanHolder reads one row of conflictingHoldersSQL.
func scanHolder(rows pgx.Rows) (lockHolder, error) {
	var h lockHolder
	var idx int32
	if err := rows.Scan(&h.pid, &h.xactStart, &h.ageSeconds, &h.mode, &h.relation, &idx); err != nil {
		return lockHolder{}, fmt.Errorf("read lock holder: %w", err)
	}
	h.idx = int(idx)
	return h, nil
}

// blockersSQL lists the open transactions that block session $1. It calls
// pg_blocking_pids, which briefly locks the lock manager, only while the
// session waits for a lock.
const blockersSQL = `SELECT a.pid, a.xact_start
FROM (SELECT pg_blocking_pids(w.pid) AS pids FROM pg_stat_activity w
	WHERE w.pid = $1 AND w.wait_event_type = 'Lock') b
JOIN pg_stat_activity a ON a.pid = ANY (b.pids)
WHERE a.xact_start IS NOT NULL`

// blockersOf lists, on a pooled session, the transactions now blocking pid.
func (c *Conn) blockersOf(ctx context.Context, pid int32) ([]lockwait.Blocker, error) {
	ctx, cancel := context.WithTimeout(ctx, blockersQueryTimeout)
	defer cancel()
	rows, err := c.pool.Query(ctx, blockersSQL, pid)
	if err != nil {
		return nil, fmt.Errorf("look up blockers: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (lockwait.Blocker, error) {
		var pid int32
		var start time.Time
		err := row.Scan(&pid, &start)
		return blocker(pid, start, 0, ""), err
	})
}

// openTransactionsSQL counts which of the given (pid, xact_start)
// transactions are still open: a session that ended, or went on to another
// transaction, no longer matches.
const openTransactionsSQL = `SELECT count(*) FROM pg_stat_activity a
JOIN unnest($1::int4[], $2::timestamptz[]) AS h(pid, xact_start)
	ON a.pid = h.pid AND a.xact_start = h.xact_start`

// transactionsEnded reports whether every transaction of bs has ended.
func transactionsEnded(ctx context.Context, q querier, bs []lockwait.Blocker) (bool, error) {
	pids, starts := make([]int32, len(bs)), make([]time.Time, len(bs))
	for i, b := range bs {
		pid, err := strconv.ParseInt(b.Session, 10, 32)
		if err != nil {
			return false, fmt.Errorf("blocker pid %q: %w", b.Session, err)
		}
		pids[i], starts[i] = int32(pid), b.Started
	}
	var open int64
	if err := q.QueryRow(ctx, openTransactionsSQL, pids, starts).Scan(&open); err != nil {
		return false, err
	}
	return open == 0, nil
}
