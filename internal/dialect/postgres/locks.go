package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	pgquery "github.com/pganalyze/pg_query_go/v6"
)

// Timing of the lock machinery. The blocker watch samples often enough to
// see a blocker several times within one lock timeout; the wait for
// blockers to go polls faster still, so a retry starts within ~25 ms of the
// blocking transaction's end.
const (
	blockerPollInterval = 50 * time.Millisecond
	minBlockerPoll      = 5 * time.Millisecond
	endPollInterval     = 25 * time.Millisecond
	backoffBase         = 50 * time.Millisecond
	backoffCap          = 5 * time.Second
	// blockerWaitCap bounds a wait for known blockers: a long report may
	// hold a table for minutes, and each retry while it lives stalls the
	// application for one more lock timeout. Past the cap the agent tries
	// again and looks for blockers anew.
	blockerWaitCap   = 60 * time.Second
	pollQueryTimeout = time.Second
)

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

// holder is another session's open transaction that holds or waits for a
// lock in the way.
type holder struct {
	pid       int32
	xactStart time.Time
	age       time.Duration // how long its transaction has been open
	mode      string        // the lock it holds; empty when unknown
	relation  string        // on which relation; empty when unknown
	snapshot  bool          // it holds a snapshot a CONCURRENTLY command waits for
}

// what says what h holds, for messages.
func (h holder) what() string {
	switch {
	case h.snapshot:
		return "holding a snapshot that CREATE INDEX CONCURRENTLY would wait for"
	case h.mode != "":
		return fmt.Sprintf("holding %s on %s", h.mode, h.relation)
	}
	return "blocking the DDL"
}

// longHolders lists the other sessions' transactions, open longer than
// minAge, that hold what needs asks for: a conflicting lock on a target
// or, for a command that waits for older snapshots, a snapshot.
func longHolders(ctx context.Context, q querier, needs lockNeeds, minAge time.Duration) ([]holder, error) {
	hs, err := conflictingHolders(ctx, q, needs.targets, minAge)
	if err != nil || !needs.snapshots {
		return hs, err
	}
	snaps, err := snapshotHolders(ctx, q, minAge)
	for _, h := range snaps {
		if !containsTransaction(hs, h) {
			hs = append(hs, h)
		}
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
func snapshotHolders(ctx context.Context, q querier, minAge time.Duration) ([]holder, error) {
	rows, err := q.Query(ctx, snapshotHoldersSQL, ApplicationName, minAge.Seconds())
	if err != nil {
		return nil, fmt.Errorf("look up snapshot holders: %w", err)
	}
	hs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (holder, error) {
		h := holder{snapshot: true}
		var ageSeconds float64
		err := row.Scan(&h.pid, &h.xactStart, &ageSeconds)
		h.age = time.Duration(ageSeconds * float64(time.Second))
		return h, err
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
func conflictingHolders(ctx context.Context, q querier, targets []lockTarget, minAge time.Duration) ([]holder, error) {
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
	var out []holder
	seen := map[int32]bool{}
	for rows.Next() {
		h, idx, err := scanHolder(rows)
		if err != nil {
			return nil, err
		}
		held, known := lockModeNames[h.mode]
		if seen[h.pid] || idx < 1 || idx > len(targets) || (known && !conflicts(targets[idx-1].mode, held)) {
			continue
		}
		seen[h.pid] = true
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up lock holders: %w", err)
	}
	return out, nil
}

// scanHolder reads one row of conflictingHoldersSQL.
func scanHolder(rows pgx.Rows) (holder, int, error) {
	var h holder
	var ageSeconds float64
	var idx int32
	if err := rows.Scan(&h.pid, &h.xactStart, &ageSeconds, &h.mode, &h.relation, &idx); err != nil {
		return holder{}, 0, fmt.Errorf("read lock holder: %w", err)
	}
	h.age = time.Duration(ageSeconds * float64(time.Second))
	return h, int(idx), nil
}

// blockerWatch samples, from another session, who blocks the DDL session
// while one attempt runs. Its goroutine owns what it records and hands it
// over when stopped.
type blockerWatch struct {
	stopCh chan struct{}
	result chan []holder
}

// watchBlockers starts sampling pg_blocking_pids(pid) every interval on
// pooled sessions, until stop.
func (c *Conn) watchBlockers(ctx context.Context, pid int32, every time.Duration) *blockerWatch {
	w := &blockerWatch{stopCh: make(chan struct{}), result: make(chan []holder, 1)}
	go func() { w.result <- c.pollBlockers(ctx, w.stopCh, pid, every) }()
	return w
}

// stop ends the sampling and returns every blocker seen, in order of
// first sighting.
func (w *blockerWatch) stop() []holder {
	close(w.stopCh)
	return <-w.result
}

// pollBlockers samples until stop is closed or ctx ends.
func (c *Conn) pollBlockers(ctx context.Context, stop <-chan struct{}, pid int32, every time.Duration) []holder {
	var seen []holder
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		// Wait first: most DDL is done before the first interval, and then
		// the watch costs no query and no second session.
		select {
		case <-stop:
			return seen
		case <-ctx.Done():
			return seen
		case <-ticker.C:
		}
		seen = c.sampleBlockers(ctx, pid, seen)
	}
}

// blockersSQL lists the open transactions that block session $1. It calls
// pg_blocking_pids, which briefly locks the lock manager, only while the
// session waits for a lock.
const blockersSQL = `SELECT a.pid, a.xact_start
FROM (SELECT pg_blocking_pids(w.pid) AS pids FROM pg_stat_activity w
	WHERE w.pid = $1 AND w.wait_event_type = 'Lock') b
JOIN pg_stat_activity a ON a.pid = ANY (b.pids)
WHERE a.xact_start IS NOT NULL`

// sampleBlockers adds to seen the transactions now blocking pid. A failed
// sample is skipped: the watch is an optimisation, the lock timeout is the
// safety.
func (c *Conn) sampleBlockers(ctx context.Context, pid int32, seen []holder) []holder {
	ctx, cancel := context.WithTimeout(ctx, pollQueryTimeout)
	defer cancel()
	rows, err := c.pool.Query(ctx, blockersSQL, pid)
	if err != nil {
		return seen
	}
	defer rows.Close()
	for rows.Next() {
		var h holder
		if rows.Scan(&h.pid, &h.xactStart) != nil {
			return seen
		}
		if !containsTransaction(seen, h) {
			seen = append(seen, h)
		}
	}
	return seen
}

// containsTransaction reports whether hs holds h's transaction.
func containsTransaction(hs []holder, h holder) bool {
	for _, x := range hs {
		if x.pid == h.pid && x.xactStart.Equal(h.xactStart) {
			return true
		}
	}
	return false
}

// openTransactionsSQL counts which of the given (pid, xact_start)
// transactions are still open: a session that ended, or went on to another
// transaction, no longer matches.
const openTransactionsSQL = `SELECT count(*) FROM pg_stat_activity a
JOIN unnest($1::int4[], $2::timestamptz[]) AS h(pid, xact_start)
	ON a.pid = h.pid AND a.xact_start = h.xact_start`

// waitTransactionsEnd polls, every 25 ms, until every transaction of hs has
// ended, maxWait has passed, or ctx ends. It reports whether they all ended.
// Without holders it simply sleeps maxWait.
func waitTransactionsEnd(ctx context.Context, q querier, hs []holder, maxWait time.Duration) (bool, error) {
	timer := time.NewTimer(maxWait)
	defer timer.Stop()
	if len(hs) == 0 {
		return false, sleepOn(ctx, timer.C)
	}
	pids, starts := make([]int32, len(hs)), make([]time.Time, len(hs))
	for i, h := range hs {
		pids[i], starts[i] = h.pid, h.xactStart
	}
	ticker := time.NewTicker(endPollInterval)
	defer ticker.Stop()
	for {
		var open int64
		if err := q.QueryRow(ctx, openTransactionsSQL, pids, starts).Scan(&open); err != nil {
			return false, fmt.Errorf("wait for blocking transactions: %w", err)
		}
		if open == 0 {
			return true, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-timer.C:
			return false, nil
		case <-ticker.C:
		}
	}
}

// sleepOn waits for fired or for ctx to end.
func sleepOn(ctx context.Context, fired <-chan time.Time) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-fired:
		return nil
	}
}

// backoffCeiling is the exponential backoff bound before retry n (0-based):
// 50 ms doubling up to 5 s.
func backoffCeiling(n int) time.Duration {
	if n >= 16 {
		return backoffCap
	}
	return min(backoffBase<<n, backoffCap)
}

// fullJitter draws a wait uniformly in [0, ceiling] (AWS's "full jitter"),
// so agents retrying against the same table spread out.
func fullJitter(ceiling time.Duration) time.Duration {
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling + 1)
}

// pollEvery is the blocker sampling interval for a lock timeout: several
// samples per lock timeout, at most every 50 ms.
func pollEvery(lockTimeout time.Duration) time.Duration {
	return max(min(blockerPollInterval, lockTimeout/4), minBlockerPoll)
}
