package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"
)

// A step's session holds a session-level advisory lock named after the
// step while it runs. An agent killed mid-statement leaves its backend
// running (PostgreSQL only notices the lost client at its next check), and
// that backend keeps the lock until it ends: the next delivery of the step
// finds it there, waits for it to end, or terminates it once the step's
// deadline has passed, before it looks at what the earlier one did. The
// agent's sessions keep application_name "hotswap-agent", which every
// figure uses to leave them out.
const (
	// stepLockClass is the first key of every step lock ("hswp").
	stepLockClass uint32 = 0x68737770
	// claimPoll is how often a delivery checks whether the earlier
	// delivery's backend has ended.
	claimPoll = 100 * time.Millisecond
)

// StepLock returns the two keys of the advisory lock a step's session
// holds while it runs (pg_locks: classid, objid, objsubid 2), so that an
// operator can find the backend of a step.
func StepLock(executionID, stepID string) (classID, objID uint32) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(executionID + "\x00" + stepID))
	return stepLockClass, h.Sum32()
}

const (
	// tryStepLockSQL takes the step's lock if no other session holds it.
	tryStepLockSQL = `SELECT pg_try_advisory_lock(($1::bigint)::bit(32)::int, ($2::bigint)::bit(32)::int)`
	// stepLockHolderSQL finds the backend holding the step's lock.
	stepLockHolderSQL = `SELECT l.pid FROM pg_locks l
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
	AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid
	AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
	AND l.pid <> pg_backend_pid()
LIMIT 1`
	unlockStepSQL = `SELECT pg_advisory_unlock(($1::bigint)::bit(32)::int, ($2::bigint)::bit(32)::int)`
)

// claim takes the step's lock on the step's session, first waiting for an
// earlier delivery's backend to end (terminating it once the deadline has
// passed). A dry run claims nothing: it leaves no trace.
func (r *stepRun) claim(ctx context.Context) error {
	if r.req.DryRun {
		return nil
	}
	class, obj := StepLock(r.req.ExecutionID, r.req.StepID)
	var waitingFor, terminated int32
	for {
		var ok bool
		if err := r.conn.QueryRow(ctx, tryStepLockSQL, int64(class), int64(obj)).Scan(&ok); err != nil {
			return fmt.Errorf("take the step's lock: %w", err)
		}
		if ok {
			r.claimed = true
			r.claimedAfter(waitingFor)
			return nil
		}
		pid, err := r.stepLockHolder(ctx, class, obj)
		if err != nil {
			return err
		}
		if pid != 0 && pid != waitingFor {
			waitingFor = pid
			r.emit(levelWarn, fmt.Sprintf("an earlier delivery of this step still runs in backend pid %d: waiting for it to end", pid), "")
		}
		if pid != 0 && pid != terminated && r.pastDeadline() {
			terminated = pid
			r.terminate(ctx, pid)
		}
		if err := sleepCtx(ctx, claimPoll); err != nil {
			return err
		}
	}
}

// claimedAfter reports that the earlier delivery's backend has ended.
func (r *stepRun) claimedAfter(waitedFor int32) {
	if waitedFor != 0 {
		r.emit(levelInfo, fmt.Sprintf("the earlier delivery's backend pid %d has ended: reconciling with what it did", waitedFor), "")
	}
}

// stepLockHolder returns the backend holding the step's lock, or 0.
func (r *stepRun) stepLockHolder(ctx context.Context, class, obj uint32) (int32, error) {
	var pid int32
	err := r.conn.QueryRow(ctx, stepLockHolderSQL, int64(class), int64(obj)).Scan(&pid)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("look up the earlier delivery's backend: %w", err)
	}
	return pid, nil
}

// pastDeadline reports whether the step's deadline has passed.
func (r *stepRun) pastDeadline() bool {
	return !r.req.Deadline.IsZero() && !time.Now().Before(r.req.Deadline)
}

// terminate ends the earlier delivery's backend: the step's deadline has
// passed and it still runs.
func (r *stepRun) terminate(ctx context.Context, pid int32) {
	var ok bool
	if err := r.conn.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, pid).Scan(&ok); err != nil || !ok {
		r.emit(levelWarn, fmt.Sprintf("could not terminate backend pid %d: %v", pid, err), "")
		return
	}
	r.emit(levelWarn, fmt.Sprintf("the step's deadline has passed: terminated the earlier delivery's backend pid %d", pid), "")
}

// unclaim releases the step's lock before the session goes back to the
// pool. It reports false when the lock could not be released: the session
// must then be closed.
func (r *stepRun) unclaim(ctx context.Context) bool {
	if !r.claimed {
		return true
	}
	class, obj := StepLock(r.req.ExecutionID, r.req.StepID)
	_, err := r.conn.Exec(ctx, unlockStepSQL, int64(class), int64(obj))
	return err == nil
}

// sleepCtx waits d, or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
