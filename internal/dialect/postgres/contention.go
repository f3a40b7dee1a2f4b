package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotswap-db/hotswap/internal/dialect/lockwait"
)

// contentionSQL lists every other session's transaction holding a granted
// lock on one of the relations named in $1 (the agent's own sessions, $2,
// left out), with what pg_stat_activity says of its statement: state, how
// long it has run, whether the transaction is that one statement, and its
// query id (compute_query_id, on with pg_stat_statements). The last column
// counts the sessions waiting for a lock on those relations.
const contentionSQL = `
WITH t AS (SELECT name, idx, to_regclass(name) AS rel FROM unnest($1::text[]) WITH ORDINALITY AS u(name, idx))
SELECT a.pid, a.xact_start, extract(epoch FROM clock_timestamp() - a.xact_start)::float8,
	l.mode, l.relation::regclass::text, t.idx::int, coalesce(a.state, ''),
	coalesce(extract(epoch FROM clock_timestamp() - a.query_start)::float8, 0),
	coalesce(a.xact_start = a.query_start, false), coalesce(a.query_id, 0),
	(SELECT count(DISTINCT w.pid) FROM pg_locks w JOIN t ON w.relation = t.rel
		WHERE w.locktype = 'relation' AND NOT w.granted AND w.pid <> pg_backend_pid())
FROM t
JOIN pg_locks l ON l.locktype = 'relation' AND l.granted AND l.relation = t.rel
	AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
JOIN pg_stat_activity a ON a.pid = l.pid
WHERE a.pid <> pg_backend_pid() AND a.application_name IS DISTINCT FROM $2
	AND a.xact_start IS NOT NULL
ORDER BY a.xact_start, a.pid`

// statementTimesSQL is the mean and standard deviation of the execution
// time of the statements with the query ids $1, over every user of this
// database (pg_stat_statements in the search path). It calls the function
// without the query texts: the view reads the whole texts file on every
// call (measured: the first look at a busy table took 109 ms instead of 3).
const statementTimesSQL = `
SELECT queryid, sum(total_exec_time) / sum(calls),
	sqrt(greatest(sum(calls * (stddev_exec_time ^ 2 + mean_exec_time ^ 2)) / sum(calls)
		- (sum(total_exec_time) / sum(calls)) ^ 2, 0))
FROM pg_stat_statements(false)
WHERE queryid = ANY ($1) AND calls > 0
	AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
GROUP BY queryid`

// contention lists, once per session, the transactions holding a lock that
// conflicts with what needs asks for, with their statements' usual times,
// and how many sessions queue for those relations. Snapshot holders (for a
// CONCURRENTLY command) are added without figures: they are waited for.
func contention(ctx context.Context, q querier, needs lockNeeds) (lockwait.Contention, error) {
	var c lockwait.Contention
	locked, err := targetsLocked(ctx, q, needs.targets)
	if err != nil {
		return c, err
	}
	if locked {
		hs, queued, ids, err := contenders(ctx, q, needs.targets)
		if err != nil {
			return c, err
		}
		addStatementTimes(ctx, q, hs, ids)
		c.Holders, c.Queued = hs, queued
	}
	if needs.snapshots {
		snaps, err := snapshotHolders(ctx, q, 0)
		if err != nil {
			return c, err
		}
		for _, h := range snaps {
			c.Holders = lockwait.AddTransaction(c.Holders, h)
		}
	}
	return c, nil
}

// targetsLockedSQL says whether another session holds or waits for a lock
// on one of the relations named in $1. It reads pg_locks alone: joining
// pg_stat_activity makes the server copy every backend's status, which on
// a server of a few hundred sessions costs tens of milliseconds the first
// time a session asks, and most of the time nobody holds the table.
const targetsLockedSQL = `SELECT EXISTS (SELECT FROM pg_locks l
	WHERE l.locktype = 'relation' AND l.pid <> pg_backend_pid()
		AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND l.relation IN (SELECT to_regclass(t) FROM unnest($1::text[]) t))`

// targetsLocked reports whether anyone else holds or waits for a lock on
// targets, which contentionSQL then says more about.
func targetsLocked(ctx context.Context, q querier, targets []lockTarget) (bool, error) {
	if len(targets) == 0 {
		return false, nil
	}
	var locked bool
	if err := q.QueryRow(ctx, targetsLockedSQL, targetNames(targets)).Scan(&locked); err != nil {
		return false, fmt.Errorf("look up lock contention: %w", err)
	}
	return locked, nil
}

// contenders runs contentionSQL: the conflicting holders, the sessions
// queued, and each holder's query id (0 unknown).
func contenders(ctx context.Context, q querier, targets []lockTarget) ([]lockwait.Blocker, int, []int64, error) {
	rows, err := q.Query(ctx, contentionSQL, targetNames(targets), ApplicationName)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("look up lock contention: %w", err)
	}
	defer rows.Close()
	var out []lockwait.Blocker
	var ids []int64
	var queued int64
	seen := map[int32]bool{}
	for rows.Next() {
		h, c, err := scanContender(rows)
		if err != nil {
			return nil, 0, nil, err
		}
		queued = c.queued
		held, known := lockModeNames[h.mode]
		if seen[h.pid] || h.idx < 1 || h.idx > len(targets) || (known && !conflicts(targets[h.idx-1].mode, held)) {
			continue
		}
		seen[h.pid] = true
		b := blocker(h.pid, h.xactStart, h.ageSeconds, fmt.Sprintf("holding %s on %s", h.mode, h.relation))
		b.State, b.OneStatement = c.state, c.oneStatement
		b.Running = time.Duration(c.runningSeconds * float64(time.Second))
		out = append(out, b)
		ids = append(ids, c.queryID)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, nil, fmt.Errorf("look up lock contention: %w", err)
	}
	return out, int(queued), ids, nil
}

// contenderFacts are the statement columns of a contentionSQL row.
type contenderFacts struct {
	state          lockwait.BlockerState
	runningSeconds float64
	oneStatement   bool
	queryID        int64
	queued         int64
}

// scanContender reads one row of contentionSQL.
func scanContender(rows pgx.Rows) (lockHolder, contenderFacts, error) {
	var h lockHolder
	var c contenderFacts
	var idx int32
	var state string
	if err := rows.Scan(&h.pid, &h.xactStart, &h.ageSeconds, &h.mode, &h.relation, &idx, &state,
		&c.runningSeconds, &c.oneStatement, &c.queryID, &c.queued); err != nil {
		return h, c, fmt.Errorf("read lock contention: %w", err)
	}
	h.idx = int(idx)
	switch state {
	case "active":
		c.state = lockwait.StateRunning
	case "idle in transaction", "idle in transaction (aborted)":
		c.state = lockwait.StateIdleInTransaction
	}
	return h, c, nil
}

// addStatementTimes fills the holders' usual statement times from
// pg_stat_statements, when it can be read: without it they stay unknown
// (and the holders are waited for until they end).
func addStatementTimes(ctx context.Context, q querier, hs []lockwait.Blocker, ids []int64) {
	var want []int64
	for _, id := range ids {
		if id != 0 {
			want = append(want, id)
		}
	}
	if len(want) == 0 {
		return
	}
	rows, err := q.Query(ctx, statementTimesSQL, want)
	if err != nil {
		return
	}
	times := map[int64][2]float64{}
	for rows.Next() {
		var id int64
		var mean, sd float64
		if rows.Scan(&id, &mean, &sd) == nil {
			times[id] = [2]float64{mean, sd}
		}
	}
	rows.Close()
	for i, id := range ids {
		if t, ok := times[id]; ok && id != 0 {
			hs[i].Typical, hs[i].TypicalSD = msDuration(t[0]), msDuration(t[1])
		}
	}
}

// msDuration converts milliseconds to a Duration.
func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// targetNames are the relation names of targets, for to_regclass.
func targetNames(targets []lockTarget) []string {
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.name
	}
	return names
}
