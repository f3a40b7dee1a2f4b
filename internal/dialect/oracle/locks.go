package oracle

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

// IsLockTimeout reports whether err is a lock timeout.
func (s lockSession) IsLockTimeout(err error) bool { return isLockTimeout(err) }

// blockersSQL lists the sessions blocking session :1 now, with their
// transaction's start and state.
const blockersSQL = `SELECT b.sid, b.serial#, t.start_date, NVL(b.status, '-'), NVL(b.last_call_et, 0)
FROM v$session w JOIN v$session b ON b.sid = w.blocking_session
LEFT JOIN v$transaction t ON t.addr = b.taddr
WHERE w.sid = :1`

// Blockers lists the sessions that block the step's session right now
// (v$session.blocking_session). With ddl_lock_timeout = 0 the DDL does
// not wait, and the policy falls back on the holders of its table.
func (s lockSession) Blockers(ctx context.Context) ([]lockwait.Blocker, error) {
	rows, err := s.r.c.db.QueryContext(ctx, blockersSQL, s.r.sid)
	if denied(err) {
		return nil, nil // no SELECT on v$session: the guard is blind, as the preflight warned
	}
	if err != nil {
		return nil, fmt.Errorf("look up blockers: %w", err)
	}
	defer rows.Close()
	var out []lockwait.Blocker
	for rows.Next() {
		b, err := scanBlocker(rows.Scan, "blocking the DDL session")
		if err != nil {
			return nil, fmt.Errorf("look up blockers: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// scanBlocker reads sid, serial#, transaction start, status and seconds
// in the current state into a Blocker.
func scanBlocker(scan func(...any) error, holds string) (lockwait.Blocker, error) {
	var sid, serial, since int64
	var started *time.Time
	var status string
	if err := scan(&sid, &serial, &started, &status, &since); err != nil {
		return lockwait.Blocker{}, err
	}
	b := lockwait.Blocker{Session: fmt.Sprintf("%d,%d", sid, serial), Holds: holds, State: lockwait.StateRunning}
	if started != nil {
		b.Started, b.Age = started.UTC(), time.Since(*started)
	}
	if status == "INACTIVE" && started != nil {
		b.State = lockwait.StateIdleInTransaction
	} else {
		b.Running = time.Duration(since) * time.Second
	}
	return b, nil
}

// sessionTxSQL reads whether a session (sid, serial#) still has a
// transaction, and when it began.
const sessionTxSQL = `SELECT COUNT(t.addr), MAX(t.start_date) FROM v$session s
LEFT JOIN v$transaction t ON t.addr = s.taddr WHERE s.sid = :1 AND s.serial# = :2`

// Ended reports whether every blocker's transaction has ended: its
// session is gone, has no transaction, or is in another one (a start
// other than the one seen).
func (s lockSession) Ended(ctx context.Context, bs []lockwait.Blocker) (bool, error) {
	for _, b := range bs {
		sid, serial, err := splitSession(b.Session)
		if err != nil {
			return false, err
		}
		var open int
		var started *time.Time
		if err := s.r.c.db.QueryRowContext(ctx, sessionTxSQL, sid, serial).Scan(&open, &started); err != nil {
			return false, fmt.Errorf("look up session %s: %w", b.Session, err)
		}
		if open > 0 && (b.Started.IsZero() || started == nil || started.UTC().Equal(b.Started)) {
			return false, nil
		}
	}
	return true, nil
}

// splitSession reads "sid,serial#".
func splitSession(s string) (int64, int64, error) {
	a, b, ok := strings.Cut(s, ",")
	sid, err1 := strconv.ParseInt(a, 10, 64)
	serial, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("oracle: blocker session %q is not sid,serial#", s)
	}
	return sid, serial, nil
}

// stmtNeeds is what one statement needs, as lockwait.Needs.
type stmtNeeds struct {
	r *stepRun
	s statement
}

// SQL is the statement to blame.
func (n stmtNeeds) SQL() string { return n.s.sql }

// holdersSQL lists the other sessions whose transaction holds a DML (TM)
// lock on table :1.:2 (v$lock: TYPE 'TM', ID1 the table's object id),
// oldest first.
const holdersSQL = `SELECT s.sid, s.serial#, t.start_date, NVL(s.status, '-'), NVL(s.last_call_et, 0)
FROM v$lock l
JOIN v$session s ON s.sid = l.sid
JOIN v$transaction t ON t.addr = s.taddr
WHERE l.type = 'TM' AND l.lmode > 0
AND l.id1 = (SELECT o.object_id FROM all_objects o WHERE o.owner = :1 AND o.object_name = :2 AND o.object_type = 'TABLE')
AND s.sid <> SYS_CONTEXT('USERENV', 'SID') AND NVL(s.program, '-') <> :3
ORDER BY t.start_date`

// Holders lists the other sessions, in a transaction open longer than
// minAge, that hold a DML lock on the statement's tables. Readers take
// no lock a DDL waits for in Oracle: only writers are listed.
func (n stmtNeeds) Holders(ctx context.Context, minAge time.Duration) ([]lockwait.Blocker, error) {
	var out []lockwait.Blocker
	for _, t := range n.s.targets {
		hs, err := n.holders(ctx, t, minAge)
		if err != nil {
			return nil, err
		}
		out = append(out, hs...)
	}
	return out, nil
}

// holders lists the holders of one table.
func (n stmtNeeds) holders(ctx context.Context, t table, minAge time.Duration) ([]lockwait.Blocker, error) {
	rows, err := n.r.c.db.QueryContext(ctx, holdersSQL, t.schema, t.name, ProgramName)
	if denied(err) {
		return nil, nil // no SELECT on v$lock: the guard is blind, as the preflight warned
	}
	if err != nil {
		return nil, fmt.Errorf("look up lock holders of %s: %w", t, err)
	}
	defer rows.Close()
	var out []lockwait.Blocker
	for rows.Next() {
		b, err := scanBlocker(rows.Scan, "holding a DML lock on "+t.String())
		if err != nil {
			return nil, fmt.Errorf("look up lock holders of %s: %w", t, err)
		}
		if b.Age >= minAge {
			out = append(out, b)
		}
	}
	return out, rows.Err()
}
