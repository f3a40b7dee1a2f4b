package mysql

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hotswap-db/hotswap/internal/dialect/lockwait"
)

// mdlInstrumented reports whether performance_schema records metadata
// locks (performance_schema=ON and the instrument
// wait/lock/metadata/sql/mdl enabled). Without it the executor knows the
// long transactions (INNODB_TRX) but not which tables they hold.
func mdlInstrumented(ctx context.Context, q queryer) bool {
	var on bool
	err := q.QueryRowContext(ctx, `SELECT @@performance_schema AND COALESCE((SELECT ENABLED = 'YES'
		FROM performance_schema.setup_instruments WHERE NAME = 'wait/lock/metadata/sql/mdl'), 0)`).Scan(&on)
	return err == nil && on
}

// lockSession is the step's session, as lockwait.Session.
type lockSession struct{ r *stepRun }

// IsLockTimeout reports whether err is a lock wait timeout.
func (s lockSession) IsLockTimeout(err error) bool { return isLockTimeout(err) }

// blockersSQL lists the sessions holding a granted metadata lock on an
// object session ? waits for.
const blockersSQL = `SELECT DISTINCT t.PROCESSLIST_ID, COALESCE(x.trx_started, TIMESTAMP'1970-01-01 00:00:00')
FROM performance_schema.metadata_locks w
JOIN performance_schema.threads me ON me.THREAD_ID = w.OWNER_THREAD_ID AND me.PROCESSLIST_ID = ?
JOIN performance_schema.metadata_locks g ON g.OBJECT_TYPE = w.OBJECT_TYPE
	AND g.OBJECT_SCHEMA <=> w.OBJECT_SCHEMA AND g.OBJECT_NAME <=> w.OBJECT_NAME
	AND g.LOCK_STATUS = 'GRANTED' AND g.OWNER_THREAD_ID <> w.OWNER_THREAD_ID
JOIN performance_schema.threads t ON t.THREAD_ID = g.OWNER_THREAD_ID AND t.PROCESSLIST_ID IS NOT NULL
LEFT JOIN information_schema.INNODB_TRX x ON x.trx_mysql_thread_id = t.PROCESSLIST_ID
WHERE w.LOCK_STATUS = 'PENDING'`

// Blockers lists the sessions whose metadata locks the step's session
// waits for now; without the instrument, the long transactions of other
// sessions while it waits for a lock.
func (s lockSession) Blockers(ctx context.Context) ([]lockwait.Blocker, error) {
	r := s.r
	if !r.mdl {
		waiting, err := r.waitingForLock(ctx)
		if err != nil || !waiting {
			return nil, err
		}
		return openTransactions(ctx, r.c.db, 0)
	}
	rows, err := r.c.db.QueryContext(ctx, blockersSQL, r.id)
	if _, ok := denied(err); ok {
		return nil, nil // no PROCESS: the guard is blind, as the preflight warned and the execution accepted
	}
	if err != nil {
		return nil, fmt.Errorf("look up blockers: %w", err)
	}
	defer rows.Close()
	var out []lockwait.Blocker
	for rows.Next() {
		var id int64
		var started time.Time
		if err := rows.Scan(&id, &started); err != nil {
			return nil, fmt.Errorf("look up blockers: %w", err)
		}
		out = append(out, lockwait.Blocker{Session: strconv.FormatInt(id, 10), Started: started})
	}
	return out, rows.Err()
}

// Ended reports whether the blockers no longer stand in the way: with the
// instrument, none of them holds a metadata lock on the running unit's
// tables any more; without it, their transactions (session and start)
// are gone from INNODB_TRX.
func (s lockSession) Ended(ctx context.Context, bs []lockwait.Blocker) (bool, error) {
	r := s.r
	if len(bs) == 0 {
		return true, nil
	}
	ids := make([]string, 0, len(bs))
	for _, b := range bs {
		if _, err := strconv.ParseInt(b.Session, 10, 64); err != nil {
			return false, fmt.Errorf("blocker connection %q: %w", b.Session, err)
		}
		ids = append(ids, b.Session)
	}
	if r.mdl && len(r.targets) > 0 {
		return noneHolds(ctx, r.c.db, ids, r.targets)
	}
	hs, err := openTransactions(ctx, r.c.db, 0)
	if err != nil {
		return false, err
	}
	for _, h := range hs {
		for _, b := range bs {
			if h.Session == b.Session && (b.Started.IsZero() || h.Started.Equal(b.Started)) {
				return false, nil
			}
		}
	}
	return true, nil
}

// noneHolds reports whether none of the sessions ids holds a granted
// metadata lock on targets.
func noneHolds(ctx context.Context, q queryer, ids []string, targets []table) (bool, error) {
	stmt := `SELECT count(*) FROM performance_schema.metadata_locks g
		JOIN performance_schema.threads t ON t.THREAD_ID = g.OWNER_THREAD_ID
		WHERE g.LOCK_STATUS = 'GRANTED' AND g.OBJECT_TYPE = 'TABLE' AND t.PROCESSLIST_ID IN (` + strings.Join(ids, ",") + `)
		AND (` + targetCondition(targets) + `)`
	var n int
	if err := q.QueryRowContext(ctx, stmt, targetArgs(targets)...).Scan(&n); err != nil {
		return false, fmt.Errorf("look up blockers' locks: %w", err)
	}
	return n == 0, nil
}

// targetCondition matches metadata_locks rows g on any of targets.
func targetCondition(targets []table) string {
	conds := make([]string, len(targets))
	for i := range targets {
		conds[i] = "(g.OBJECT_SCHEMA = ? AND g.OBJECT_NAME = ?)"
	}
	return strings.Join(conds, " OR ")
}

// targetArgs are the arguments of targetCondition.
func targetArgs(targets []table) []any {
	args := make([]any, 0, 2*len(targets))
	for _, t := range targets {
		args = append(args, t.schema, t.name)
	}
	return args
}

// stmtNeeds is what one statement needs, as lockwait.Needs.
type stmtNeeds struct {
	r *stepRun
	s statement
}

// SQL is the statement to blame.
func (n stmtNeeds) SQL() string { return n.s.sql }

// Holders lists the other sessions, in a transaction or statement open
// longer than minAge, that hold a metadata lock on the statement's tables
// (performance_schema.metadata_locks); without the instrument, every long
// transaction of INNODB_TRX (which tables it holds is unknown).
func (n stmtNeeds) Holders(ctx context.Context, minAge time.Duration) ([]lockwait.Blocker, error) {
	if len(n.s.targets) == 0 {
		return nil, nil
	}
	if !n.r.mdl {
		return openTransactions(ctx, n.r.c.db, minAge)
	}
	return mdlHolders(ctx, n.r.c.db, n.s.targets, minAge)
}

// mdlHolders lists the sessions holding a granted metadata lock on
// targets whose transaction, or statement, is older than minAge.
func mdlHolders(ctx context.Context, q queryer, targets []table, minAge time.Duration) ([]lockwait.Blocker, error) {
	stmt := `SELECT t.PROCESSLIST_ID, COALESCE(x.trx_started, TIMESTAMP'1970-01-01 00:00:00'),
		GREATEST(COALESCE(TIMESTAMPDIFF(MICROSECOND, x.trx_started, NOW(6)) / 1e6, 0), COALESCE(p.TIME, 0)),
		MIN(CONCAT(g.LOCK_TYPE, ' on ', g.OBJECT_SCHEMA, '.', g.OBJECT_NAME))
		FROM performance_schema.metadata_locks g
		JOIN performance_schema.threads t ON t.THREAD_ID = g.OWNER_THREAD_ID
		JOIN information_schema.PROCESSLIST p ON p.ID = t.PROCESSLIST_ID
		LEFT JOIN information_schema.INNODB_TRX x ON x.trx_mysql_thread_id = t.PROCESSLIST_ID
		WHERE g.LOCK_STATUS = 'GRANTED' AND g.OBJECT_TYPE = 'TABLE' AND (` + targetCondition(targets) + `)
		AND ` + notAgent("t.PROCESSLIST_ID") + `
		GROUP BY t.PROCESSLIST_ID, x.trx_started, p.TIME ORDER BY t.PROCESSLIST_ID`
	rows, err := q.QueryContext(ctx, stmt, targetArgs(targets)...)
	if _, ok := denied(err); ok {
		return nil, nil // no PROCESS: the guard is blind, as the preflight warned and the execution accepted
	}
	if err != nil {
		return nil, fmt.Errorf("look up metadata lock holders: %w", err)
	}
	defer rows.Close()
	var out []lockwait.Blocker
	for rows.Next() {
		var id int64
		var started time.Time
		var age float64
		var holds string
		if err := rows.Scan(&id, &started, &age, &holds); err != nil {
			return nil, fmt.Errorf("look up metadata lock holders: %w", err)
		}
		b := lockwait.Blocker{Session: strconv.FormatInt(id, 10), Started: started,
			Age: time.Duration(age * float64(time.Second)), Holds: "holding metadata lock " + holds}
		if b.Age >= minAge {
			out = append(out, b)
		}
	}
	return out, rows.Err()
}

// openTransactions lists the other sessions' InnoDB transactions open
// longer than minAge.
func openTransactions(ctx context.Context, q queryer, minAge time.Duration) ([]lockwait.Blocker, error) {
	stmt := func(exclude func(string) string) string {
		return `SELECT x.trx_mysql_thread_id, x.trx_started, TIMESTAMPDIFF(MICROSECOND, x.trx_started, NOW(6)) / 1e6
		FROM information_schema.INNODB_TRX x
		WHERE ` + exclude("x.trx_mysql_thread_id") + ` AND x.trx_started < NOW(6) - INTERVAL ? MICROSECOND
		ORDER BY x.trx_started`
	}
	rows, err := queryNotAgent(ctx, q, stmt, minAge.Microseconds())
	if _, ok := denied(err); ok {
		return nil, nil // no PROCESS: the guard is blind, as the preflight warned and the execution accepted
	}
	if err != nil {
		return nil, fmt.Errorf("look up open transactions: %w", err)
	}
	defer rows.Close()
	var out []lockwait.Blocker
	for rows.Next() {
		var id int64
		var started time.Time
		var age float64
		if err := rows.Scan(&id, &started, &age); err != nil {
			return nil, fmt.Errorf("look up open transactions: %w", err)
		}
		out = append(out, lockwait.Blocker{Session: strconv.FormatInt(id, 10), Started: started,
			Age: time.Duration(age * float64(time.Second)), Holds: "with a transaction open (which tables it holds is unknown)"})
	}
	return out, rows.Err()
}
